// Loaded by every page (templates/base.html). Page modules are loaded by their own
// templates in {% block scripts %}.

// Close the user menu when clicking elsewhere.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.user-menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});
