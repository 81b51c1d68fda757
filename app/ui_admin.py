"""The admin panel of the "Văn bản" tab: upload plans (several files), remove one, follow the job's progress.

The panel is plain HTML whose script talks to the admin API itself (``POST /api/documents``,
``DELETE /api/documents/{doc_id}``, ``GET /api/jobs/{id}``) with the token typed into it, so the token never
passes through Gradio and Gradio's own upload route stays closed (:mod:`app.guards`).  When no admin token is
configured the panel only says that uploads are disabled and how an administrator enables them.  When a job
finishes the script clicks the tab's refresh button, which reloads the lists of plans.
"""

from __future__ import annotations

import gradio as gr

REFRESH_ID = "kh-admin-refresh"
ACCEPT = ".pdf,.docx,.txt,.md,.png,.jpg,.jpeg,.tif,.tiff"
DISABLED_HTML = ('<div class="kh-admin" id="kh-admin-off"><b>Thêm / xóa văn bản:</b> chức năng tải văn bản lên '
                 'đang tắt. Quản trị viên bật bằng cách đặt biến môi trường <code>KEHOACH_ADMIN_TOKEN</code> '
                 '(một mã bí mật) rồi khởi động lại dịch vụ.</div>')
PANEL_HTML = f"""<div class="kh-admin" id="kh-admin">
<b>Thêm / xóa văn bản (quản trị)</b>
<div class="kh-admin-row"><label>Mã quản trị <input type="password" id="kh-admin-token" autocomplete="off"
 placeholder="KEHOACH_ADMIN_TOKEN"></label></div>
<div class="kh-admin-row"><input type="file" id="kh-admin-files" multiple accept="{ACCEPT}">
<button type="button" id="kh-admin-upload" class="lg primary">Tải lên và lập chỉ mục</button></div>
<div class="kh-admin-row"><select id="kh-admin-doc" aria-label="Văn bản cần xóa"></select>
<button type="button" id="kh-admin-delete" class="lg secondary">Xóa văn bản</button></div>
<progress id="kh-admin-progress" max="1" value="0" hidden></progress>
<div id="kh-admin-status" role="status" aria-live="polite"></div>
<ul id="kh-admin-files-out"></ul>
</div>"""

# runs once the panel is on the page (``element`` is the panel's container)
PANEL_JS = """
const $ = (id) => element.querySelector('#' + id);
if (!$('kh-admin')) return;
const status = $('kh-admin-status'), bar = $('kh-admin-progress'), out = $('kh-admin-files-out');
const say = (text) => { status.textContent = text; };
const auth = () => ({ 'Authorization': 'Bearer ' + $('kh-admin-token').value.trim() });
const busy = (on) => { $('kh-admin-upload').disabled = on; $('kh-admin-delete').disabled = on; };
async function fillDocs() {
  try {
    const r = await fetch('/api/documents');
    if (!r.ok) return;
    const sel = $('kh-admin-doc'); sel.textContent = '';
    for (const d of await r.json()) {
      const o = document.createElement('option'); o.value = d.doc_id;
      o.textContent = (d.number || '(chưa ghi số)') + ' – ' + (d.issuer || d.source_file) + ' [' + d.doc_id + ']';
      sel.appendChild(o);
    }
  } catch (e) {}
}
function showFiles(files) {
  out.textContent = '';
  for (const f of files || []) {
    const li = document.createElement('li'); li.className = 'kh-admin-' + f.status;
    li.textContent = f.name + ': ' + ({ok: 'xong', error: 'lỗi', rejected: 'bị từ chối', pending: 'đang chờ'}[f.status]
      || f.status) + (f.chunks ? ' (' + f.chunks + ' đoạn' + (f.pages ? ', ' + f.pages + ' trang' : '') + ')' : '')
      + (f.detail ? ' – ' + f.detail : '');
    out.appendChild(li);
  }
}
async function follow(job) {
  bar.hidden = false;
  while (job.status === 'queued' || job.status === 'running') {
    bar.value = job.progress; say('Đang xử lý: ' + job.stage + ' (' + Math.round(job.progress * 100) + '%)');
    showFiles(job.files);
    await new Promise((ok) => setTimeout(ok, 1000));
    const r = await fetch('/api/jobs/' + job.id, { headers: auth() });
    if (!r.ok) { say('Không theo dõi được job: ' + ((await r.json()).detail || r.status)); return; }
    job = await r.json();
  }
  bar.value = 1; showFiles(job.files);
  const idx = job.index ? ' Chỉ mục hiện có ' + job.index.documents + ' văn bản, ' + job.index.chunks + ' đoạn.' : '';
  say((job.status === 'done' ? 'Hoàn tất.' : 'Không thành công: ' + (job.detail || 'xem lỗi từng tệp.')) + idx);
  await fillDocs();
  const refresh = document.querySelector('#""" + REFRESH_ID + """');
  if (refresh) refresh.click();
}
async function send(method, url, body) {
  busy(true);
  try {
    const r = await fetch(url, { method, headers: auth(), body });
    const data = await r.json().catch(() => ({}));
    if (r.status === 202) { await follow(data); return; }
    say(data.detail || ('Lỗi ' + r.status)); showFiles(data.files);
  } catch (e) { say('Không gửi được yêu cầu: ' + e); } finally { busy(false); }
}
$('kh-admin-upload').addEventListener('click', () => {
  const files = $('kh-admin-files').files;
  if (!files.length) { say('Chọn một hoặc nhiều tệp (PDF, DOCX, TXT/MD) trước.'); return; }
  const form = new FormData();
  for (const f of files) form.append('files', f, f.name);
  say('Đang tải lên ' + files.length + ' tệp…'); send('POST', '/api/documents', form);
});
$('kh-admin-delete').addEventListener('click', () => {
  const id = $('kh-admin-doc').value;
  if (!id) { say('Chọn văn bản cần xóa.'); return; }
  if (!confirm('Xóa văn bản ' + id + ' khỏi chỉ mục?')) return;
  say('Đang xóa ' + id + '…'); send('DELETE', '/api/documents/' + encodeURIComponent(id));
});
fillDocs();
"""


def admin_panel(enabled: bool) -> gr.Button:
    """The panel (or the "uploads are disabled" note) and the refresh button its script clicks after a job."""
    if enabled:
        gr.HTML(PANEL_HTML, js_on_load=PANEL_JS, elem_id="kh-admin-panel")
    else:
        gr.HTML(DISABLED_HTML, elem_id="kh-admin-panel")
    return gr.Button("Làm mới danh sách văn bản", size="sm", elem_id=REFRESH_ID)
