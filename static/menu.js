// The console's menu: on a narrow screen a disclosure, closed at first so the page starts near the top;
// on a wide screen always open (its summary is hidden there, so nothing could reopen it).
// Loaded right after the menu, without defer, so a phone never shows it open first.
(() => {
  const menu = document.querySelector("details.console-menu");
  const narrow = window.matchMedia("(max-width: 720px)");
  const fit = () => { menu.open = !narrow.matches; };
  fit();
  narrow.addEventListener("change", fit);
})();
