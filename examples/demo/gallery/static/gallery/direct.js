// Direct upload: Django signs a short-lived POST policy, the browser sends the file
// to the storage server itself, then tells Django which file arrived.
(function () {
  const form = document.getElementById("direct-form");
  const status = document.getElementById("direct-status");
  if (!form || !status) return;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function postJSON(url, data) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data),
      credentials: "same-origin",
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return;
    try {
      status.textContent = "Signing…";
      const signed = await postJSON(form.dataset.sign, {
        filename: file.name, content_type: file.type, size: file.size,
      });
      status.textContent = "Uploading to the storage server…";
      let stored;
      if (signed.method === "PUT" || Object.keys(signed.fields || {}).length === 0) {
        // Azure (PUT) and Dropbox (POST to a one-time link): the file itself is the body.
        stored = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: file });
      } else {
        const body = new FormData();
        for (const [key, value] of Object.entries(signed.fields)) body.append(key, value);
        body.append("file", file);  // S3 requires the file to be the last field
        stored = await fetch(signed.url, { method: "POST", body: body });
      }
      if (!stored.ok) throw new Error("the storage server answered " + stored.status);
      await postJSON(form.dataset.complete, { ticket: signed.ticket, title: form.elements.title.value });
      status.textContent = "Stored.";
      window.location.reload();
    } catch (error) {
      status.textContent = "Direct upload failed: " + error.message;
    }
  });
})();
