// fetch() for the app's own endpoints: JSON in and out, the CSRF token from
// <meta name="csrf-token"> in the X-CSRF-Token header, and errors thrown as ApiError
// carrying the {"error": {code, message, field, issues}} body of web/errors.py.
//
//   import { api } from "/static/js/http.js";
//   const page = await api("/api/v1/apps/crm/forms/customers/records");
//   await api(url, { method: "POST", body: { name: "x" } });

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code;
    this.field = error.field;
    this.issues = error.issues || [];
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function api(url, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) {
    if (body instanceof FormData) init.body = body;
    else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  }
  const response = await fetch(url, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || {});
  return data;
}
