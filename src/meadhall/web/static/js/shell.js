// The signed-in shell: the user menu and signing out. Kept small and loaded first, so the menu
// answers as soon as the page shows.
import { api } from "./api.js";

const menu = document.querySelector("[data-usermenu]");

function setupMenu(root) {
  const button = root.querySelector(".usermenu__button");
  const panel = root.querySelector(".usermenu__panel");
  const items = () => Array.from(panel.querySelectorAll('[role="menuitem"]'));

  const open = (focusFirst) => {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    if (focusFirst) items()[0]?.focus();
  };
  const close = (focusButton) => {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  };

  button.addEventListener("click", () => (panel.hidden ? open(false) : close(false)));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open(true);
    }
  });
  panel.addEventListener("keydown", (event) => {
    const list = items();
    const index = list.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      close(true);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      list[(index + 1) % list.length]?.focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      list[(index - 1 + list.length) % list.length]?.focus();
    } else if (event.key === "Tab") {
      close(false);
    }
  });
  document.addEventListener("click", (event) => {
    if (!root.contains(event.target)) close(false);
  });
}

async function signOut(button) {
  button.disabled = true;
  try {
    // An expired access token is renewed once, so the refresh token really is revoked.
    await api.post("/api/auth/logout", undefined, { redirect: false });
  } catch (error) {
    // Leaving for the sign-in page is right either way; the server clears what it can.
    console.warn("sign out:", error);
  }
  location.replace("/login");
}

if (menu) {
  setupMenu(menu);
  const logout = menu.querySelector('[data-action="logout"]');
  logout.addEventListener("click", () => signOut(logout));
  // A click that comes before this point does nothing; tests wait for the mark.
  menu.dataset.ready = "true";
}
