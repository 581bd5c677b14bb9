// The door: scan tickets with the camera (jsQR, pinned in /static/vendor) or type the code;
// the answer fills the screen. Without a network the phone decides against the ticket list it
// keeps (hashes of the codes) and keeps its scans, sending them when the network returns; the
// server decides each scan once and reports a ticket let in at two doors as a conflict.
"use strict";
(function () {
  var root = document.getElementById("door");
  if (!root) { return; }
  var base = "/door/" + root.dataset.event;
  var token = root.dataset.token;
  var store = "tessera-door-" + root.dataset.event;
  var state = {};
  try { state = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { state = {}; }
  state.queue = state.queue || [];        // scans made offline, not yet decided by the server
  state.admitted = state.admitted || {};  // code hashes this phone let in while offline
  state.list = state.list || null;        // code hash -> {name, type, in}
  state.conflicts = state.conflicts || [];
  var device = localStorage.getItem("tessera-door-device");
  if (!device) {
    device = "Door " + Math.random().toString(36).slice(2, 6).toUpperCase();
    localStorage.setItem("tessera-door-device", device);
  }
  document.getElementById("door-device").value = device;

  function save() { localStorage.setItem(store, JSON.stringify(state)); }
  function say(key) { return root.getAttribute("data-t-" + key) || key; }
  function byId(id) { return document.getElementById(id); }

  function counters(found) {
    if (!found) { return; }
    byId("door-in").textContent = found.checked_in;
    byId("door-expected").textContent = found.expected;
  }

  function pending() {
    var note = byId("door-pending");
    note.textContent = state.queue.length ? " · " + say("pending").replace("{num}", state.queue.length) : "";
  }

  function showConflicts() {
    var section = byId("door-conflicts");
    var list = section.querySelector("ul");
    list.textContent = "";
    state.conflicts.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = [item.holder_name, item.ticket_type_name, item.first].filter(Boolean).join(" · ");
      list.appendChild(li);
    });
    section.hidden = state.conflicts.length === 0;
  }

  var hideTimer = null;
  function show(answer, offline) {
    var panel = byId("door-answer");
    var good = answer.outcome === "admitted";
    panel.className = "door-answer " + (good ? "ok" : "bad");
    panel.textContent = "";
    var lines = [
      [say(answer.outcome), "door-verdict"],
      [answer.holder_name, "door-name"],
      [answer.ticket_type_name, ""],
      [answer.first, ""],
      [answer.detail, ""],
      [offline ? say("offline") : "", "hint"]
    ];
    lines.forEach(function (line) {
      if (!line[0]) { return; }
      var p = document.createElement("p");
      p.textContent = line[0];
      if (line[1]) { p.className = line[1]; }
      panel.appendChild(p);
    });
    panel.hidden = false;
    panel.focus();
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, good ? 1500 : 4000);
  }
  function hide() {
    byId("door-answer").hidden = true;
    byId("door-code").focus();
  }
  byId("door-answer").addEventListener("click", hide);

  function post(path, body) {
    return fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000)
    }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    });
  }

  function refreshList() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return fetch(base + "/list.json", { credentials: "same-origin", signal: AbortSignal.timeout(10000) })
      .then(function (response) { if (!response.ok) { throw new Error("list"); } return response.json(); })
      .then(function (body) { state.list = body.tickets; counters(body.counters); save(); })
      .catch(function () { /* keep the list this phone has */ });
  }

  function codeOf(payload) {
    var parts = payload.split(".");
    if (parts.length === 3 && parts[0] === "TSR1") { return parts[1]; }
    return parts.length === 1 ? payload : null;
  }

  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (digest) {
      return Array.from(new Uint8Array(digest)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    });
  }

  function decideHere(scan) {
    var code = codeOf(scan.payload);
    var lookup = code && state.list ? sha256(code) : Promise.resolve(null);
    return lookup.then(function (hash) {
      var entry = hash ? state.list[hash] : null;
      if (!entry) {
        show({ outcome: "refused", detail: say("unknown") }, true);
        return;
      }
      var answer = { holder_name: entry.name, ticket_type_name: entry.type };
      if (entry["in"] || state.admitted[hash]) {
        show(Object.assign(answer, { outcome: "already" }), true);
        return;
      }
      state.admitted[hash] = true;
      state.queue.push(scan);
      save();
      pending();
      show(Object.assign(answer, { outcome: "admitted" }), true);
    });
  }

  var syncing = false;
  function sync() {
    if (syncing || !state.queue.length || !navigator.onLine) { return; }
    syncing = true;
    var batch = state.queue.slice(0, 500);
    post("/offline.json", { scans: batch }).then(function (body) {
      var sent = {};
      body.results.forEach(function (result) {
        sent[result.scan_id] = true;
        if (result.outcome === "conflict") { state.conflicts.push(result); }
      });
      state.queue = state.queue.filter(function (scan) { return !sent[scan.scan_id]; });
      counters(body.counters);
      save();
      pending();
      showConflicts();
    }).catch(function () { /* try again later */ }).then(function () { syncing = false; });
  }

  function scan(payload) {
    var made = {
      scan_id: crypto.randomUUID(),
      payload: payload.trim(),
      scanned_at: new Date().toISOString(),
      device: device
    };
    if (!made.payload) { return; }
    if (!navigator.onLine) { decideHere(made); return; }
    post("/scan.json", made).then(function (answer) {
      counters(answer.counters);
      show(answer, false);
    }).catch(function () { decideHere(made); });
  }

  byId("door-form").addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    var field = byId("door-code");
    scan(field.value);
    field.value = "";
  });

  // The camera: on request (phones ask for permission), reading a frame every 150 ms; the same
  // code again within three seconds is the same scan.
  var video = byId("door-video"), canvas = byId("door-canvas");
  var stream = null, last = { text: "", at: 0 };
  function read() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR ? window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" }) : null;
      var now = Date.now();
      if (found && found.data && (found.data !== last.text || now - last.at > 3000)) {
        last = { text: found.data, at: now };
        scan(found.data);
      }
    }
    setTimeout(read, 150);
  }
  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
    byId("door-camera").hidden = false;
    byId("door-camera-stop").hidden = true;
  }
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    byId("door-camera").hidden = false;
    byId("door-camera").addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (opened) {
          stream = opened;
          video.srcObject = opened;
          video.hidden = false;
          byId("door-camera").hidden = true;
          byId("door-camera-stop").hidden = false;
          return video.play();
        })
        .then(read)
        .catch(function () {
          var note = byId("door-camera-note");
          note.textContent = say("camera-off");
          note.hidden = false;
        });
    });
    byId("door-camera-stop").addEventListener("click", stop);
  }

  window.addEventListener("online", function () { sync(); refreshList(); });
  setInterval(sync, 5000);
  setInterval(refreshList, 60000);
  pending();
  showConflicts();
  refreshList().then(sync);
})();
