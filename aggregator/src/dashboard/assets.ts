/**
 * The dashboard's one stylesheet and its few lines of script, served from memory at
 * `/assets/*` with a content hash in the URL (cached for a year, never stale).
 *
 * The script only adds live refresh: every element marked `data-live` is re-fetched from the same
 * URL (so the user's filters stay) every few seconds and replaced when it changed. Pages work
 * without it.
 */
import { createHash } from 'node:crypto';

const STYLESHEET = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#ffffff; --panel:#f6f8fa; --line:#d0d7de; --link:#0550ae;
  --drift:#b42318; --drift-bg:#fde8e7; --ok:#1a7f37; --ok-bg:#dafbe1; --just:#6e40c9; --just-bg:#efe7ff;
  --scale:#7a5a00; --scale-bg:#fff3c4; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9da7b3; --bg:#0d1117; --panel:#161b22;
  --line:#30363d; --link:#6cb6ff; --drift:#ff7b72; --drift-bg:#3d1514; --ok:#56d364; --ok-bg:#12301b;
  --just:#d2a8ff; --just-bg:#2a1d45; --scale:#e3b341; --scale-bg:#332700; } }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--link); }
header.top { display:flex; flex-wrap:wrap; gap:.4rem 1.2rem; align-items:center; padding:.6rem 1rem; border-bottom:1px solid var(--line); background:var(--panel); }
header.top .brand { font-weight:700; text-decoration:none; color:var(--fg); }
header.top nav { display:flex; flex-wrap:wrap; gap:.2rem .9rem; }
header.top nav a { text-decoration:none; }
header.top nav a[aria-current="page"] { font-weight:700; text-decoration:underline; }
header.top .who { margin-left:auto; color:var(--muted); font-size:.9em; display:flex; gap:.5rem; align-items:center; }
main { padding:1rem; max-width:1400px; margin:0 auto; }
h1 { font-size:1.4rem; margin:.2rem 0 .8rem; } h2 { font-size:1.1rem; margin:1.4rem 0 .5rem; }
code, .mono, td.path, td.value { font-family:var(--mono); font-size:.88em; overflow-wrap:anywhere; }
td.path { overflow-wrap:break-word; } td.value { min-width:8rem; }
.muted { color:var(--muted); }
.table-wrap { overflow-x:auto; max-width:100%; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; background:var(--panel); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
.status { display:inline-block; padding:0 .4rem; border-radius:.3rem; font-size:.82em; font-weight:600; white-space:nowrap; }
.status.drift, .status.open, .status.expired, .status.offline, .status.emergency { color:var(--drift); background:var(--drift-bg); }
.status.equal, .status.ok, .status.online, .status.resolved, .status.active { color:var(--ok); background:var(--ok-bg); }
.status.justified { color:var(--just); background:var(--just-bg); }
.status.scale, .status.stale, .status.expiring, .status.tie, .status.secret-policy { color:var(--scale); background:var(--scale-bg); }
.secret { color:var(--muted); }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(15rem, 1fr)); gap:.8rem; }
.card { border:1px solid var(--line); border-radius:.4rem; padding:.6rem .8rem; background:var(--panel); }
.card h3 { margin:0 0 .3rem; font-size:1rem; }
.card dl { display:grid; grid-template-columns:auto 1fr; gap:.1rem .6rem; margin:0; font-size:.92em; }
.card dt { color:var(--muted); }
.card dd { margin:0; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem .8rem; align-items:end; margin:.4rem 0 .8rem; }
form label { display:flex; flex-direction:column; font-size:.85em; color:var(--muted); gap:.15rem; }
input, select, textarea, button { font:inherit; color:inherit; background:var(--bg); border:1px solid var(--line); border-radius:.3rem; padding:.25rem .45rem; }
button, .button { cursor:pointer; background:var(--panel); text-decoration:none; display:inline-block; border:1px solid var(--line); border-radius:.3rem; padding:.15rem .5rem; color:var(--fg); }
button.primary { background:var(--link); color:var(--bg); border-color:var(--link); }
form.stack { display:flex; flex-direction:column; gap:.6rem; max-width:40rem; }
form.inline { display:inline; }
details > summary { cursor:pointer; }
.matrix td, .matrix thead th { text-align:center; }
.notice { padding:.5rem .8rem; border:1px solid var(--line); border-left:4px solid var(--link); background:var(--panel); margin:.6rem 0; }
.notice.error { border-left-color:var(--drift); }
.pager { display:flex; gap:1rem; margin:.6rem 0; }
@media (max-width: 640px) { main { padding:.6rem; } header.top .who { margin-left:0; } th, td { padding:.25rem .3rem; } }
`;

const LIVE_SCRIPT = `
(() => {
  const every = 3000;
  const regions = () => document.querySelectorAll('[data-live]');
  if (regions().length === 0) return;
  let etag = null;
  let timer = null;
  function signedOut() {
    clearInterval(timer);
    const note = document.createElement('p');
    note.className = 'notice error';
    note.setAttribute('role', 'status');
    note.textContent = 'Live refresh stopped: your session ended. Reload the page to sign in again.';
    document.querySelector('main')?.prepend(note);
  }
  async function refresh() {
    if (document.hidden) return;
    try {
      const headers = { 'X-Envparity-Live': '1' };
      if (etag) headers['If-None-Match'] = etag;
      const response = await fetch(location.href, { headers, credentials: 'same-origin' });
      if (response.status === 401) return signedOut();
      if (response.status === 304 || !response.ok) return;
      etag = response.headers.get('ETag');
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const region of regions()) {
        const fresh = doc.getElementById(region.id);
        if (!fresh || fresh.innerHTML === region.innerHTML) continue;
        // What the user opened or closed stays so, whatever the server renders open by default.
        const toggled = [...region.querySelectorAll('details[id]')].map((d) => [d.id, d.open]);
        region.innerHTML = fresh.innerHTML;
        for (const [id, open] of toggled) {
          const details = document.getElementById(id);
          if (details) details.open = open;
        }
      }
    } catch { /* offline for a moment: try again next time */ }
  }
  timer = setInterval(refresh, every);
})();
`;

export interface Asset {
  path: string;
  contentType: string;
  body: string;
}

function asset(name: string, extension: string, contentType: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/assets/${name}.${hash}.${extension}`, contentType, body };
}

export const STYLESHEET_ASSET = asset('dashboard', 'css', 'text/css; charset=utf-8', STYLESHEET);
export const LIVE_SCRIPT_ASSET = asset('live', 'js', 'text/javascript; charset=utf-8', LIVE_SCRIPT);
export const DASHBOARD_ASSETS: readonly Asset[] = [STYLESHEET_ASSET, LIVE_SCRIPT_ASSET];
