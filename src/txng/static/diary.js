/* Production diary on a phone with a bad signal. Our own, no library.
 *
 * - On save, the hidden event_time gets the moment the button was tapped (unless the person
 *   typed another date or time), so an entry sent later keeps the time it happened.
 * - Without a signal (or when the request fails on the network), the entry is kept in
 *   localStorage and sent again on the "online" event or the next diary page load, with the
 *   current page's CSRF token. Photos cannot be kept and are dropped, with a notice.
 * - Everything works without this file: the forms are ordinary HTML forms.
 */
(function () {
  "use strict";

  var QUEUE = "txng.diary.queue.v1";
  var FAILED = "txng.diary.failed.v1";
  var box = document.getElementById("diary-queue");
  var sending = false;
  var sentNow = 0;

  function load(key) {
    try {
      var list = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  function store(key, list) {
    try {
      window.localStorage.setItem(key, JSON.stringify(list));
      return true;
    } catch (e) {
      return false;
    }
  }

  function user() {
    return box ? box.getAttribute("data-user") || "" : "";
  }

  function mine(item) {
    return item && item.user === user();
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < (width || 2)) {
      s = "0" + s;
    }
    return s;
  }

  /* The phone's local time with its offset: 2026-06-12T07:30:05.120+07:00 */
  function localIso(d) {
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      "." + pad(d.getMilliseconds(), 3) + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = "";
    for (var i = 0; i < 16; i++) {
      h += (b[i] + 256).toString(16).slice(1);
    }
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function text(name, n) {
    return (box.getAttribute("data-" + name) || "").replace("{n}", String(n));
  }

  function isLogin(url) {
    try {
      return new URL(url, window.location.href).pathname === "/login";
    } catch (e) {
      return false;
    }
  }

  /* The notice: what is waiting, what was sent, what was refused. */
  function render(extra) {
    if (!box) {
      return;
    }
    var waiting = load(QUEUE).filter(mine).length;
    var failed = load(FAILED).filter(mine);
    var lines = [];
    if (extra) {
      lines.push(extra);
    }
    if (waiting) {
      lines.push(text("waiting", waiting));
    } else if (sentNow && !sending) {
      lines.push(text("sent"));
    }
    if (failed.length) {
      lines.push(text("failed", failed.length));
    }
    var p = box.querySelector(".queue-text");
    p.textContent = "";
    lines.forEach(function (line, i) {
      if (i) {
        p.appendChild(document.createElement("br"));
      }
      p.appendChild(document.createTextNode(line));
    });
    var old = box.querySelector("button");
    if (old) {
      old.parentNode.removeChild(old);
    }
    if (failed.length) {
      var fix = document.createElement("button");
      fix.type = "button";
      fix.className = "button small secondary";
      fix.textContent = text("fix");
      fix.addEventListener("click", function () {
        reopen(failed[0]);
      });
      box.appendChild(fix);
    }
    box.hidden = lines.length === 0;
    box.className = "alert diary-queue" + (waiting || failed.length ? " alert-warn" : " alert-ok");
  }

  /* A refused entry is posted as an ordinary form: the server shows it with its errors. */
  function reopen(item) {
    store(FAILED, load(FAILED).filter(function (other) { return other.id !== item.id; }));
    var form = document.createElement("form");
    form.method = "post";
    form.action = item.action;
    form.enctype = "multipart/form-data";
    form.hidden = true;
    item.fields.forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[0] === "csrf_token" ? csrf() : pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function fieldsOf(form) {
    var out = [];
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string") {
        out.push([key, value]);
      }
    });
    return out;
  }

  function hasPhoto(form) {
    var input = form.querySelector("input[type=file]");
    return !!(input && input.files && input.files.length);
  }

  function keep(form) {
    var list = load(QUEUE);
    list.push({
      id: uuid4(),
      user: user(),
      action: form.getAttribute("action"),
      fields: fieldsOf(form),
      savedAt: Date.now()
    });
    if (!store(QUEUE, list)) {
      return false;
    }
    var dropped = hasPhoto(form);
    form.reset();
    form.removeAttribute("data-when-edited");
    var id = form.querySelector("input[name=entry_id]");
    if (id) {
      id.value = uuid4();  // the next entry on this form is another event
    }
    var lines = text("saved") + (dropped ? " " + text("photo") : "");
    render(lines);
    if (box) {
      box.scrollIntoView({ block: "center" });
    }
    return true;
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-diary")) {
      return;
    }
    var when = form.querySelector("input[name=event_time]");
    if (when) {
      when.value = form.hasAttribute("data-when-edited") ? "" : localIso(new Date());
    }
    if (!window.fetch || !window.FormData) {
      return;  // an old browser: the ordinary form post
    }
    event.preventDefault();
    if (!navigator.onLine) {
      if (!keep(form)) {
        HTMLFormElement.prototype.submit.call(form);
      }
      return;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok && response.redirected && !isLogin(response.url)) {
        window.location.assign(response.url);
        return;
      }
      // Errors to show, or signed out: the browser posts the form itself and shows the answer.
      HTMLFormElement.prototype.submit.call(form);
    }).catch(function () {
      if (button) {
        button.disabled = false;
      }
      if (!keep(form)) {
        HTMLFormElement.prototype.submit.call(form);
      }
    });
  }

  function sendNext() {
    if (sending || !navigator.onLine || !window.fetch) {
      render();
      return;
    }
    var item = load(QUEUE).filter(mine)[0];
    if (!item) {
      render();
      if (sentNow && box && box.hasAttribute("data-reload")) {
        window.location.reload();
      }
      return;
    }
    sending = true;
    render(text("sending"));
    var body = new FormData();
    item.fields.forEach(function (pair) {
      body.append(pair[0], pair[0] === "csrf_token" ? csrf() : pair[1]);
    });
    fetch(item.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        sending = false;
        if (isLogin(response.url) || response.status === 403 || response.status === 401) {
          render(text("signin"));
          return;
        }
        store(QUEUE, load(QUEUE).filter(function (other) { return other.id !== item.id; }));
        if (!response.ok) {
          var failed = load(FAILED);
          failed.push(item);
          store(FAILED, failed);
        } else {
          sentNow += 1;
        }
        sendNext();
      })
      .catch(function () {
        sending = false;  // still no signal: wait for the next "online" event
        render();
      });
  }

  document.addEventListener("submit", onSubmit);
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && (target.name === "date" || target.name === "time") && target.form) {
      target.form.setAttribute("data-when-edited", "1");
    }
  });
  window.addEventListener("online", sendNext);
  sendNext();
})();
