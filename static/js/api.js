// Calls to /api/v1 from a page: the session cookie plus the X-CSRFToken header.
// Never throws for an HTTP answer: resolves to {ok, status, data, problem, network}.

let token = document.querySelector('meta[name="csrf-token"]')?.content || "";

export function csrfToken() {
  return token;
}

// Fetch the current page again (the service worker passes it to the network first) and read
// a fresh token from it: the token in a page loaded from the offline cache may be stale.
export async function refreshCsrfToken() {
  try {
    const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok || response.redirected) return false;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.querySelector('meta[name="csrf-token"]')?.content;
    if (fresh) {
      token = fresh;
      return true;
    }
  } catch (_err) {
    /* offline: keep the old token */
  }
  return false;
}

export async function api(method, url, body, { timeoutMs = 15000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (err) {
    return { ok: false, status: 0, network: true, data: null, problem: null, error: err };
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch (_err) {
      data = null;
    }
  }
  const ok = response.ok;
  return {
    ok,
    status: response.status,
    network: false,
    data: ok ? data : null,
    problem: ok ? null : data || { status: response.status, detail: response.statusText },
  };
}

export function isCsrfProblem(result) {
  return result.status === 400 && String(result.problem?.type || "").endsWith("/csrf");
}
