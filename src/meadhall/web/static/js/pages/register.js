// Invite registration: /register?code=… pre-fills the code.
import { api } from "../api.js";
import { bindForm, bindRevealButtons, goTo, passwordsMatch } from "../forms.js";

const form = document.querySelector('[data-form="register"]');

bindRevealButtons(form);
bindForm(form, {
  validate: passwordsMatch("password", "password_confirm"),
  submit: async ({ invite_code, email, display_name, password }) => {
    await api.post(
      "/api/auth/register",
      {
        invite_code: invite_code.trim(),
        email: email.trim(),
        display_name: display_name.trim(),
        password,
      },
      { auth: false },
    );
    return goTo("/");
  },
});
