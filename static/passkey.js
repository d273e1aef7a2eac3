// WebAuthn glue: the server renders the options as JSON; this turns them into a browser ceremony and posts the
// result back in the form's hidden "credential" field. Forms: data-webauthn="get" (sign in) or "create" (register).
(function () {
  "use strict";
  const b64 = {
    decode: (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=")), (c) => c.charCodeAt(0)),
    encode: (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  };

  function publicKeyOptions(json, kind) {
    const options = { ...json, challenge: b64.decode(json.challenge) };
    const list = kind === "create" ? "excludeCredentials" : "allowCredentials";
    options[list] = (json[list] || []).map((c) => ({ ...c, id: b64.decode(c.id) }));
    if (kind === "create") options.user = { ...json.user, id: b64.decode(json.user.id) };
    return options;
  }

  function serialise(credential) {
    const r = credential.response;
    const response = { clientDataJSON: b64.encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = b64.encode(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = b64.encode(r.authenticatorData);
      response.signature = b64.encode(r.signature);
      if (r.userHandle) response.userHandle = b64.encode(r.userHandle);
    }
    return JSON.stringify({ id: credential.id, rawId: b64.encode(credential.rawId), type: credential.type, response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults() });
  }

  function wire(form) {
    const kind = form.dataset.webauthn;
    const json = JSON.parse(form.querySelector(".webauthn-options").textContent);
    const status = form.querySelector(".webauthn-status");
    let pending = null;

    async function run(mediation) {
      if (pending) pending.abort();
      pending = new AbortController();
      const request = { publicKey: publicKeyOptions(json, kind), signal: pending.signal };
      if (mediation) request.mediation = mediation;
      try {
        const credential = kind === "create" ? await navigator.credentials.create(request)
                                               : await navigator.credentials.get(request);
        form.querySelector("input[name=credential]").value = serialise(credential);
        form.submit();
      } catch (error) {
        if (error.name !== "AbortError" && status) {
          status.textContent = error.name === "SecurityError" ? status.dataset.insecure : status.dataset.cancelled;
        }
      }
    }

    form.querySelector(".webauthn-start").addEventListener("click", () => run(null));
    if (form.dataset.conditional && window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => { if (ok) run("conditional"); });
    }
  }

  if (!window.PublicKeyCredential) {
    document.querySelectorAll("[data-webauthn] .webauthn-status").forEach((el) => { el.textContent = el.dataset.unsupported; });
    return;
  }
  document.querySelectorAll("form[data-webauthn]").forEach(wire);
})();
