// Ask for a reset e-mail. The answer never tells whether the address has an account.
import { api } from "../api.js";
import { bindForm } from "../forms.js";

const form = document.querySelector('[data-form="forgot-password"]');
const requestStep = document.querySelector('[data-step="request"]');
const sentStep = document.querySelector('[data-step="sent"]');

bindForm(form, {
  submit: async ({ email }) => {
    const address = email.trim();
    await api.post("/api/auth/password-reset", { email: address }, { auth: false });
    sentStep.querySelector("[data-sent-to]").textContent = address;
    requestStep.hidden = true;
    sentStep.hidden = false;
    sentStep.focus();
  },
});
