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

// The contact form's definition: its fields (the practice's intake questions
// among them), labels, choices, limits, consent text and crisis notice.
// Revalidated on every load (a 304 when unchanged), so that a practice's new
// question shows at once rather than when a cached copy expires.
export async function getFormDefinition(apiBase) {
  return getJson(`${apiBase}/contact`, { cache: "no-cache" });
}

async function getJson(url, options = {}) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, ...options });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

// The API's field error codes (a 422 answer's `fields`) in a visitor's words:
// the same sentences as the page the API answers a plain form post with
// (handler/field_errors.py). `{limit}` is the field's maxlength.
const FIELD_LABELS = {
  name: "your name",
  email: "your email address",
  phone: "your phone number",
  preferred_contact: "how you would like to be answered",
  message: "your message",
  consent: "the box",
  "cf-turnstile-response": "the check that you are not a robot",
};
// An intake question's errors name the question itself (its label in the form's definition).
const QUESTION_SENTENCES = {
  required: "Please answer the question: {question}",
  other: "Please choose one of the answers offered to the question: {question}",
};
const FIELD_SENTENCES = {
  required: "Please fill in {label}.",
  too_long: "Please shorten {label} to {limit} characters or fewer.",
  invalid_email: "Please enter a valid email address.",
  invalid_phone: "Please write your phone number with digits, spaces and + ( ) - . only.",
  required_for_phone_contact: "Please add a phone number, or choose to be answered by email.",
  control_characters: "Please remove the special characters from {label}.",
  direction_controls:
    "Please type {label} again: it holds invisible characters that change the direction of text, often copied along with it.",
  failed: "The check that you are not a robot did not pass: please try again.",
};
const OWN_SENTENCES = {
  "consent required": "Please tick the box to confirm that you understand this form is not for emergencies.",
  "cf-turnstile-response required": "Please complete the check that you are not a robot.",
  "preferred_contact invalid_choice": "Please choose how you would like to be answered.",
};

function fieldSentence(name, code, input, question) {
  if (question) return (QUESTION_SENTENCES[code] || QUESTION_SENTENCES.other).replace("{question}", question);
  const limit = input && input.maxLength > 0 ? input.maxLength : 0;
  const template =
    OWN_SENTENCES[`${name} ${code}`] ||
    (code === "too_long" && !limit ? "Please shorten {label}." : FIELD_SENTENCES[code]) ||
    "Please check {label}.";
  return template.replace("{label}", FIELD_LABELS[name] || "this field").replace("{limit}", String(limit));
}

// Builds the fields of `form` from the form's definition (GET /contact): the
// element marked data-fields is filled with a labelled control for each field,
// in the definition's order, each tied to its error slot (and the message to
// its hint) by aria-describedby. Until this runs, or if the definition cannot
// be had, the form keeps the fields its HTML has. What the visitor has typed
// meanwhile is kept.
export function buildContactForm(form, definition) {
  const container = form.querySelector("[data-fields]");
  const typed = new FormData(form);
  container.replaceChildren(...definition.fields.map((field) => fieldElement(field)));
  for (const field of definition.fields) {
    const input = form.elements[field.name];
    if (field.max_length && typed.get(field.name)) input.value = typed.get(field.name);
  }
  definitions.set(form, definition);
}

// Each built form's definition: its intake questions' errors name the question.
const definitions = new WeakMap();

function element(tag, attributes = {}, ...children) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== false) made.setAttribute(name, value === true ? "" : value);
  }
  made.append(...children);
  return made;
}

function errorSlot(name) {
  return element("span", { class: "error", id: `${name}-error`, "data-error-for": name });
}

function fieldElement(field) {
  const { name } = field;
  const wrapper = element("div", { class: "field" });
  const described = `${name}-error`;
  if (field.type === "checkbox") {
    const box = element("input", { type: "checkbox", id: name, name, "aria-describedby": described });
    wrapper.append(element("label", {}, box, " ", element("span", { id: `${name}-text` }, field.label)), errorSlot(name));
    return wrapper;
  }
  if (field.type === "choice") return choiceElement(field);
  const label = element("label", { for: name }, field.required ? field.label : `${field.label} (optional)`);
  wrapper.append(label);
  let describedBy = described;
  if (field.hint) {
    wrapper.append(element("p", { class: "hint", id: `${name}-hint` }, field.hint));
    describedBy = `${name}-hint ${described}`;
  }
  const attributes = {
    id: name,
    name,
    maxlength: String(field.max_length),
    required: field.required,
    autocomplete: field.autocomplete,
    "aria-describedby": describedBy,
  };
  const control =
    field.type === "textarea"
      ? element("textarea", { ...attributes, rows: "6" })
      : element("input", { ...attributes, type: field.type });
  wrapper.append(control, errorSlot(name));
  return wrapper;
}

// Several choices: checkboxes; a long list (the states): a select; else radio buttons.
function choiceElement(field) {
  const { name } = field;
  const legendText = field.required ? field.label : `${field.label} (optional)`;
  if (!field.multiple && field.choices.length > 4) {
    const select = element(
      "select",
      { id: name, name, required: field.required, "aria-describedby": `${name}-error` },
      element("option", { value: "" }, "Choose…"),
      ...field.choices.map((choice) => element("option", { value: choice.value }, choice.label)),
    );
    return element("div", { class: "field" }, element("label", { for: name }, legendText), select, errorSlot(name));
  }
  const options = field.choices.map((choice) => {
    const id = `${name}-${choice.value}`;
    const input = element("input", {
      type: field.multiple ? "checkbox" : "radio",
      id,
      name,
      value: choice.value,
      checked: choice.value === field.default,
      "data-multiple": field.multiple,
      "aria-describedby": `${name}-error`,
    });
    return element("label", { class: "choice", for: id }, input, " ", choice.label);
  });
  return element(
    "fieldset",
    { class: "field", id: `${name}-group` },
    element("legend", {}, legendText),
    ...options,
    errorSlot(name),
  );
}

// Sends `form` with fetch to its action: inline errors beside each field
// (tied to it by the field's aria-describedby), the visitor's text kept when
// sending fails, one submission at a time, the crisis notice shown on
// success. The same Idempotency-Key is reused until a send succeeds, so a
// retried or double-clicked submission is stored once. The form must carry
// method="post" and its action (the API's /contact): until this runs, or if it
// never does, the browser posts the form itself and the API answers a page.
export function attachContactForm(form, { onSent } = {}) {
  if (form.method !== "post" || !form.getAttribute("action")) {
    throw new Error('The contact form needs method="post" and action="<API URL>/contact".');
  }
  let idempotencyKey = crypto.randomUUID();
  let sending = false;
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector("[data-status]");
  const notice = form.querySelector("[data-notice]");

  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    if (sending) return;
    sending = true;
    button.disabled = true;
    clearErrors(form);
    setStatus(status, "Sending…");
    const fields = {};
    for (const [name, value] of new FormData(form)) {
      const several = form.querySelector(`[name="${CSS.escape(name)}"][data-multiple]`);
      if (several) (fields[name] ||= []).push(value);
      else fields[name] = value;
    }
    fields.consent = form.elements.consent.checked;
    if (!fields.phone) delete fields.phone;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify(fields),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 201 || response.status === 202) {
        form.reset();
        idempotencyKey = crypto.randomUUID();
        setStatus(status, "Thank you: your message has been received.");
        if (notice) {
          notice.textContent = body.notice || "";
          notice.hidden = !notice.textContent;
        }
        if (onSent) onSent(body);
      } else if (response.status === 422 && body.fields) {
        const unplaced = showErrors(form, body.fields);
        setStatus(status, ["Please check the highlighted fields.", ...unplaced].join(" "));
        form.querySelector("[aria-invalid]")?.focus();
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

// Each error beside its field; returns the sentences for fields without a place (such as a hidden one).
function showErrors(form, fields) {
  const unplaced = [];
  const questions = new Map(
    (definitions.get(form)?.fields || [])
      .filter((field) => field.type === "choice" && field.name !== "preferred_contact")
      .map((field) => [field.name, field.label]),
  );
  for (const [name, code] of Object.entries(fields)) {
    const input = form.elements[name];
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const sentence = fieldSentence(name, code, input, questions.get(name));
    if (slot) slot.textContent = sentence;
    else unplaced.push(sentence);
    // A group of radio buttons or checkboxes is a list of inputs: each is marked.
    const inputs = input instanceof RadioNodeList ? [...input] : input ? [input] : [];
    for (const each of inputs) if (each.setAttribute) each.setAttribute("aria-invalid", "true");
  }
  return unplaced;
}

function setStatus(element, text) {
  if (element) element.textContent = text;
}
