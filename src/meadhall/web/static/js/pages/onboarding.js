// First-run page: the first account becomes the administrator.
import { api } from "../api.js";
import { bindForm, bindRevealButtons, goTo, passwordsMatch } from "../forms.js";

const form = document.querySelector('[data-form="onboarding"]');

bindRevealButtons(form);
bindForm(form, {
  validate: passwordsMatch("password", "password_confirm"),
  submit: async ({ email, display_name, password }) => {
    await api.post(
      "/api/auth/onboarding",
      { email: email.trim(), display_name: display_name.trim(), password },
      { auth: false },
    );
    return goTo("/");
  },
});
