// Choose a new password with the token from the reset e-mail.
import { api } from "../api.js";
import { bindForm, bindRevealButtons, goTo, passwordsMatch } from "../forms.js";

const form = document.querySelector('[data-form="reset-password"]');
const token = form.dataset.token;

// The token is a secret: keep it out of the address bar, history and bookmarks once read.
history.replaceState(null, "", location.pathname);

bindRevealButtons(form);
bindForm(form, {
  validate: passwordsMatch("new_password", "password_confirm"),
  submit: async ({ new_password }) => {
    await api.post("/api/auth/password-reset/confirm", { token, new_password }, { auth: false });
    return goTo("/login?reset=1");
  },
});
