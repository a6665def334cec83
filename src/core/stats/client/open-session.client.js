// Signing in on an open proxy. Without PROXY_API_KEY the page needs no login and shows no
// login form, but with ADMIN_API_KEY set only a session started with that token may change
// the pool. These are the same plain form posts as the login page's (/stat/login,
// /stat/logout): the server decides, the page only offers them.

import { h } from "./dom.client.js";

export function createOpenSession(container, fmt) {
  let shown = null;
  return {
    /** A sign-in form for a viewer, a log-out button for an admin. */
    update(role) {
      if (shown === role) return;
      shown = role;
      if (role === "admin") {
        container.replaceChildren(
          h("form", { method: "post", action: "/stat/logout", class: "logout" }, h("button", { type: "submit", class: "button quiet" }, fmt.t("logout"))),
        );
        return;
      }
      container.replaceChildren(
        h(
          "form",
          { method: "post", action: "/stat/login", class: "admin-sign-in" },
          h("input", { name: "token", type: "password", autocomplete: "current-password", required: true, "aria-label": fmt.t("adminSignIn"), placeholder: fmt.t("adminSignIn") }),
          h("button", { type: "submit", class: "button" }, fmt.t("adminSignInSubmit")),
        ),
      );
    },
  };
}
