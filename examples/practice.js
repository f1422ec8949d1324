// The practice website's side of the API: articles and the contact form.
// A plain ES module with no dependencies. `apiBase` is the API's URL
// ("" when the page is served by the API's own origin, as `make run` does).

export async function listArticles(apiBase, { page = 1, limit = 15, tag } = {}) {
  const query = new URLSearchParams({ page: String(page), limit: String(limit) });
  if (tag) query.set("tag", tag);
  return getJson(`${apiBase}/articles?${query}`);
}

export async function getArticle(apiBase, slug) {
  return (await getJson(`${apiBase}/articles/${encodeURIComponent(slug)}`)).article;
}

export async function getContactSettings(apiBase) {
  return getJson(`${apiBase}/contact`);
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

const FIELD_MESSAGES = {
  required: "Please fill this in.",
  too_long: "This is too long.",
  invalid_email: "Please enter a valid email address.",
  invalid_phone: "Use digits, spaces and + ( ) - . only.",
  required_for_phone_contact: "Add a phone number, or choose email.",
  control_characters: "Please remove special characters.",
  invalid_choice: "Please choose one of the options.",
  invalid_type: "Please check this field.",
  unknown_field: "This field is not expected.",
  failed: "The check did not pass; please try again.",
};

// Sends `form` with fetch: inline errors beside each field, the visitor's
// text kept when sending fails, one submission at a time, the crisis notice
// shown on success. The same Idempotency-Key is reused until a send
// succeeds, so a retried or double-clicked submission is stored once.
export function attachContactForm(form, { apiBase = "", onSent } = {}) {
  let idempotencyKey = crypto.randomUUID();
  let sending = false;
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector("[data-status]");

  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    if (sending) return;
    sending = true;
    button.disabled = true;
    clearErrors(form);
    setStatus(status, "Sending…");
    const fields = {};
    for (const [name, value] of new FormData(form)) fields[name] = value;
    fields.consent = form.elements.consent.checked;
    if (!fields.phone) delete fields.phone;
    try {
      const response = await fetch(`${apiBase}/contact`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify(fields),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 201 || response.status === 202) {
        form.reset();
        idempotencyKey = crypto.randomUUID();
        setStatus(status, "Thank you: your message has been received.");
        const notice = form.querySelector("[data-notice]");
        if (notice) notice.textContent = body.notice || "";
        if (onSent) onSent(body);
      } else if (response.status === 422 && body.fields) {
        showErrors(form, body.fields);
        setStatus(status, "Please check the highlighted fields.");
      } else if (response.status === 429) {
        setStatus(status, "Too many messages were sent from here. Please try again in a few minutes.");
      } else {
        setStatus(status, body.message || "Your message could not be sent. Please try again.");
      }
    } catch {
      setStatus(status, "Your message could not be sent: check your connection and try again. Your text is still here.");
    } finally {
      sending = false;
      button.disabled = false;
    }
  });
}

function clearErrors(form) {
  for (const element of form.querySelectorAll("[data-error-for]")) element.textContent = "";
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
}

function showErrors(form, fields) {
  for (const [name, code] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) slot.textContent = FIELD_MESSAGES[code] || "Please check this field.";
    const input = form.elements[name];
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
  }
}

function setStatus(element, text) {
  if (element) element.textContent = text;
}
