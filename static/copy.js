// The "Copy" buttons: copy the text of the element named by data-copy, then say so on the button.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const text = document.querySelector(button.dataset.copy).textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = button.dataset.copied;
    } catch (error) {
      window.getSelection().selectAllChildren(document.querySelector(button.dataset.copy));
    }
  });
});
