// One file to POST /api/v1/files with XMLHttpRequest (fetch reports no upload progress):
// resolves with {"id", "name", "size", "content_type"}, rejects with the API's message.
//
//   const file = await uploadFile("/api/v1/files?app=crm&form=c&field=scan", file, (pct) => ...);
import { csrfToken } from "./http.js";

export function uploadFile(url, file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
      else reject(new Error((body && body.error && body.error.message) || `HTTP ${xhr.status}`));
    });
    xhr.addEventListener("error", () => reject(new Error("network error")));
    const data = new FormData();
    data.append("file", file);
    xhr.send(data);
  });
}
