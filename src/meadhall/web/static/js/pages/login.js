// Sign-in page: email + password; a still-renewable session skips the form entirely.
import { api, hasSessionHint, refreshSession } from "../api.js";
import { bindForm, bindRevealButtons, goTo } from "../forms.js";

const form = document.querySelector('[data-form="login"]');
const next = form.dataset.next || "/";

bindRevealButtons(form);
bindForm(form, {
  submit: async ({ email, password }) => {
    await api.post("/api/auth/login", { email: email.trim(), password }, { auth: false });
    return goTo(next);
  },
});

// The access cookie lives minutes, the refresh cookie weeks: when this browser had a
// session, try renewing it before asking for the password again.
if (hasSessionHint()) {
  refreshSession().then((renewed) => {
    if (renewed) goTo(next);
  });
}
