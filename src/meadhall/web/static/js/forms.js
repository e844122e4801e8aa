// Form behaviour shared by the pages: inline validation, busy buttons, server errors shown
// next to the field they concern, and show/hide toggles on password fields.

import { ApiError } from "./api.js";

function fieldError(form, name) {
  return form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
}

export function setFieldError(form, name, message) {
  const input = form.elements.namedItem(name);
  const slot = fieldError(form, name);
  if (slot) slot.textContent = message || "";
  if (input instanceof HTMLElement) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

export function setFormError(form, message) {
  const slot = form.querySelector("[data-form-error]");
  if (slot) slot.textContent = message || "";
}

function clearErrors(form) {
  setFormError(form, "");
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    setFieldError(form, slot.dataset.errorFor, "");
  }
}

function labelOf(input) {
  const label = input.labels && input.labels[0];
  return label ? label.textContent.trim() : "This field";
}

// The browser's own constraint checks, worded consistently.
function nativeMessage(input) {
  const v = input.validity;
  if (v.valid) return "";
  const label = labelOf(input);
  if (v.valueMissing) return `Enter your ${label.toLowerCase()}.`;
  if (v.typeMismatch && input.type === "email") return "Enter an email address like name@example.com.";
  if (v.tooShort) return `${label} must be at least ${input.minLength} characters.`;
  if (v.tooLong) return `${label} must be at most ${input.maxLength} characters.`;
  return input.validationMessage || `${label} is not valid.`;
}

function values(form) {
  const data = {};
  for (const [key, value] of new FormData(form).entries()) {
    data[key] = typeof value === "string" ? value : "";
  }
  return data;
}

function setBusy(form, busy) {
  const button = form.querySelector('button[type="submit"]');
  if (!button) return;
  const label = button.querySelector(".button__label");
  if (busy) {
    if (!button.dataset.idleLabel) button.dataset.idleLabel = label.textContent;
    label.textContent = button.dataset.busyLabel || label.textContent;
    button.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.idleLabel) label.textContent = button.dataset.idleLabel;
    button.removeAttribute("aria-busy");
  }
  button.disabled = busy;
}

function formatWait(seconds) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

// Disable the form until the server's retry time has passed, counting down in the message.
function holdForRetry(form, seconds) {
  const button = form.querySelector('button[type="submit"]');
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      setFormError(form, "");
      if (button) button.disabled = false;
      return;
    }
    setFormError(form, `Too many attempts. Try again in ${formatWait(left)}.`);
    left -= 1;
    window.setTimeout(tick, 1000);
  };
  if (button) button.disabled = true;
  tick();
}

export function showError(form, error) {
  if (!(error instanceof ApiError)) {
    setFormError(form, "Something went wrong. Please try again.");
    console.error(error);
    return;
  }
  if (error.code === "rate_limited" && error.retryAfter) {
    holdForRetry(form, error.retryAfter);
    return;
  }
  const fields = error.fieldErrors;
  let shownInline = false;
  for (const [name, message] of Object.entries(fields)) {
    if (fieldError(form, name)) {
      setFieldError(form, name, message);
      shownInline = true;
    }
  }
  if (!shownInline) setFormError(form, error.message);
  focusFirstInvalid(form);
}

function focusFirstInvalid(form) {
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
}

// bindForm(form, {validate(values) -> {name: message}, submit(values) -> Promise})
// submit may return true to keep the form busy (the page is navigating away).
export function bindForm(form, { validate, submit }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button && button.disabled) return;
    clearErrors(form);
    const problems = {};
    for (const input of form.querySelectorAll("input")) {
      const message = nativeMessage(input);
      if (message && input.name) problems[input.name] = message;
    }
    const data = values(form);
    if (validate) {
      for (const [name, message] of Object.entries(validate(data) || {})) {
        if (message && !(name in problems)) problems[name] = message;
      }
    }
    if (Object.keys(problems).length > 0) {
      for (const [name, message] of Object.entries(problems)) setFieldError(form, name, message);
      focusFirstInvalid(form);
      return;
    }
    setBusy(form, true);
    let leaving = false;
    let failure = null;
    try {
      leaving = (await submit(data)) === true;
    } catch (error) {
      failure = error;
    }
    if (!leaving) setBusy(form, false);
    if (failure) showError(form, failure);
  });

  // A field's message goes away as soon as it is being corrected.
  form.addEventListener("input", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.name) setFieldError(form, target.name, "");
  });
}

export function passwordsMatch(field, confirmField) {
  return (data) =>
    data[field] && data[confirmField] && data[field] !== data[confirmField]
      ? { [confirmField]: "The passwords do not match." }
      : {};
}

// Show/hide toggles on password inputs.
export function bindRevealButtons(root = document) {
  for (const button of root.querySelectorAll("[data-reveal]")) {
    const input = document.getElementById(button.dataset.reveal);
    if (!input) continue;
    button.addEventListener("click", () => {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", String(show));
      const label = show ? "Hide password" : "Show password";
      button.setAttribute("aria-label", label);
      button.title = label;
    });
  }
}

export function goTo(path) {
  location.replace(path);
  return true;
}
