/* The interactive phase diagram. Every number comes from window.QKIT_PHASE, written at build
 * time by docs/_ext/qkit_phase.py from `qkit theory` and `qkit sweep`: this script only finds
 * the nearest grid point and shows what is stored there (colours are read off stored E_F). */
(function () {
  "use strict";
  const data = window.QKIT_PHASE;
  const root = document.getElementById("qkit-phase");
  if (!root || !data) return;

  const M = data.mixup, C = data.channel, samples = data.samples;
  const nS = M.success.length, nA = M.amplitude.length;
  const field = (name) => M.fields.indexOf(name);
  const cfield = (name) => C.fields.indexOf(name);
  const fmt2 = (x) => Number(x).toFixed(2);

  // grid lookup: nearest index along a sorted, evenly spaced axis
  function nearest(axis, x) {
    const i = Math.round(((x - axis[0]) / (axis[axis.length - 1] - axis[0])) * (axis.length - 1));
    return Math.min(axis.length - 1, Math.max(0, i));
  }
  const cell = (i, j) => M.values[i * nA + j];

  // the text `qkit theory ...` prints: title, then "  key  value" rows aligned on the keys
  function printed(title, fields, values) {
    const width = Math.max(...fields.map((f) => f.length));
    const rows = fields.map((f, k) => "  " + f.padEnd(width) + "  " + values[k]);
    return [title, ...rows].join("\n");
  }

  // ---- paper A canvas --------------------------------------------------------------------
  const canvas = document.getElementById("qkit-phase-mixup");
  const ctx = canvas.getContext("2d");
  const pad = { left: 52, right: 96, top: 12, bottom: 44 };  // the colour bar on the right
  const W = canvas.width - pad.left - pad.right, H = canvas.height - pad.top - pad.bottom;
  const dS = M.success[1] - M.success[0], dA = M.amplitude[1] - M.amplitude[0];
  const s0 = M.success[0] - dS / 2, s1 = M.success[nS - 1] + dS / 2;
  const a0 = M.amplitude[0] - dA / 2, a1 = M.amplitude[nA - 1] + dA / 2;
  const xOf = (S) => pad.left + ((S - s0) / (s1 - s0)) * W;
  const yOf = (a) => pad.top + (1 - (a - a0) / (a1 - a0)) * H;
  const SOf = (x) => s0 + ((x - pad.left) / W) * (s1 - s0);
  const aOf = (y) => a0 + (1 - (y - pad.top) / H) * (a1 - a0);

  // a perceptual blue-green-yellow ramp (viridis stops)
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function ramp(t) {
    t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t)), u = t - k;
    const c = stops[k].map((v, m) => Math.round(v + u * (stops[k + 1][m] - v)));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  const iE = field("eof"), iEnt = field("entangled"), iLhv = field("lhv_region");
  const iChsh = field("chsh_violated");
  function drawMixup(mark) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const cw = W / nS, ch = H / nA;
    for (let i = 0; i < nS; i++) {
      for (let j = 0; j < nA; j++) {
        const v = cell(i, j);
        let colour = "#e6e6e6";
        if (v[iEnt] === "True") colour = ramp(Math.sqrt(parseFloat(v[iE])));
        ctx.fillStyle = colour;
        ctx.fillRect(xOf(M.success[i]) - cw / 2, yOf(M.amplitude[j]) - ch / 2, cw + 0.6, ch + 0.6);
        if (v[iLhv] === "True") {
          ctx.fillStyle = "rgba(110,110,110,0.55)";
          ctx.fillRect(xOf(M.success[i]) - cw / 2, yOf(M.amplitude[j]) - ch / 2, cw + 0.6, ch + 0.6);
        }
      }
    }
    // CHSH threshold S(a), computed by qkit on a fine grid of a: a smooth curve
    ctx.strokeStyle = "#d62728";
    ctx.lineWidth = 2;
    ctx.beginPath();
    let open = false;
    for (const point of M.chsh_line) {
      if (point === null) { open = false; continue; }
      const [S, a] = point;
      if (open) ctx.lineTo(xOf(S), yOf(a)); else ctx.moveTo(xOf(S), yOf(a));
      open = true;
    }
    ctx.stroke();
    drawColourBar();
    // sampled points
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#000";
    for (const key of Object.keys(samples.mixup)) {
      const [S, a] = key.split(",").map(Number);
      ctx.beginPath();
      ctx.arc(xOf(S), yOf(a), 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // axes
    ctx.fillStyle = "#000";
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1;
    ctx.font = "12px sans-serif";
    ctx.strokeRect(pad.left, pad.top, W, H);
    ctx.textAlign = "center";
    for (const t of [0.2, 0.4, 0.6, 0.8, 1.0]) {
      ctx.beginPath(); ctx.moveTo(xOf(t), pad.top + H); ctx.lineTo(xOf(t), pad.top + H + 4); ctx.stroke();
      ctx.fillText(t.toFixed(1), xOf(t), pad.top + H + 16);
    }
    ctx.fillText("success S", pad.left + W / 2, pad.top + H + 32);
    ctx.textAlign = "right";
    for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1.0]) {
      ctx.beginPath(); ctx.moveTo(pad.left - 4, yOf(t)); ctx.lineTo(pad.left, yOf(t)); ctx.stroke();
      ctx.fillText(t.toFixed(1), pad.left - 6, yOf(t) + 4);
    }
    ctx.save();
    ctx.translate(14, pad.top + H / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("amplitude a", 0, 0);
    ctx.restore();
    if (mark) {
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 3;
      ctx.strokeRect(xOf(mark.S) - 5, yOf(mark.a) - 5, 10, 10);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(xOf(mark.S) - 5, yOf(mark.a) - 5, 10, 10);
    }
  }

  // colour bar: E_F on the square-root scale of the plane
  function drawColourBar() {
    const x = pad.left + W + 18, w = 14;
    for (let py = 0; py < H; py++) {
      ctx.fillStyle = ramp(1 - py / H);
      ctx.fillRect(x, pad.top + py, w, 1.5);
    }
    ctx.fillStyle = "#e6e6e6";
    ctx.fillRect(x, pad.top + H + 6, w, 10);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1;
    ctx.strokeRect(x, pad.top, w, H);
    ctx.strokeRect(x, pad.top + H + 6, w, 10);
    ctx.fillStyle = "#000";
    ctx.font = "12px sans-serif";
    ctx.textAlign = "left";
    for (const e of [0, 0.01, 0.05, 0.2, 0.5, 1]) {
      const y = pad.top + (1 - Math.sqrt(e)) * H;
      ctx.beginPath(); ctx.moveTo(x + w, y); ctx.lineTo(x + w + 4, y); ctx.stroke();
      ctx.fillText(String(e), x + w + 6, y + 4);
    }
    ctx.fillText("C = 0", x + w + 6, pad.top + H + 15);
    ctx.save();
    ctx.translate(x + w + 48, pad.top + H / 2);
    ctx.rotate(Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("entanglement of formation E_F (√ scale)", 0, 0);
    ctx.restore();
  }

  // the command line's own checks (qkit theory mixup, captured at build time)
  function refused(name, x) {
    const rule = M.limits[name];
    const ok = Number.isFinite(x) &&
      (rule.low_open ? x > rule.low : x >= rule.low) &&
      (rule.high_open ? x < rule.high : x <= rule.high);
    return ok ? null : rule.message.replace("{}", String(x));
  }
  function showRefusal(message, S, a) {
    document.getElementById("qkit-phase-mixup-command").textContent =
      `qkit theory mixup --success ${S} --amplitude ${a}`;
    const out = document.getElementById("qkit-phase-mixup-output");
    out.textContent = message;
    out.classList.add("qkit-phase-error");
    delete out.dataset.success;
    delete out.dataset.amplitude;
    document.getElementById("qkit-phase-mixup-sample").textContent = "";
    drawMixup();
  }

  function interval(v) {
    const boundary = v[3] === "True" ? " (at boundary)" : "";
    return `${Number(v[0]).toFixed(4)} [${Number(v[1]).toFixed(4)}, ${Number(v[2]).toFixed(4)}]${boundary}`;
  }

  function showMixup(i, j) {
    const S = M.success[i], a = M.amplitude[j];
    const command = `qkit theory mixup --success ${S} --amplitude ${a}`;
    document.getElementById("qkit-phase-mixup-command").textContent = command;
    const out = document.getElementById("qkit-phase-mixup-output");
    out.textContent = printed(M.title, M.fields, cell(i, j));
    out.classList.remove("qkit-phase-error");
    out.dataset.success = String(S);
    out.dataset.amplitude = String(a);
    const box = document.getElementById("qkit-phase-mixup-sample");
    const s = samples.mixup[`${fmt2(S)},${fmt2(a)}`];
    if (s) {
      box.innerHTML = "";
      const p = document.createElement("p");
      p.textContent = "Sampled (95% intervals; CHSH ± standard error):";
      const table = document.createElement("table");
      const rows = [
        ["chsh", `${Number(s.chsh[0]).toFixed(4)} ± ${Number(s.chsh[1]).toFixed(4)}`],
        ["fidelity", interval(s.fidelity)],
        ["concurrence", interval(s.concurrence)],
        ["eof", interval(s.eof)],
      ];
      for (const [k, v] of rows) {
        const tr = table.insertRow();
        tr.insertCell().textContent = k;
        tr.insertCell().textContent = v;
      }
      box.append(p, table);
    } else {
      box.textContent = "Not sampled by the shipped sweep (black circles mark the points it sampled).";
    }
    document.getElementById("qkit-phase-S").value = S;
    document.getElementById("qkit-phase-a").value = a;
    drawMixup({ S, a });
  }

  function eventIndex(ev) {
    const r = canvas.getBoundingClientRect();
    const x = ((ev.clientX - r.left) * canvas.width) / r.width;
    const y = ((ev.clientY - r.top) * canvas.height) / r.height;
    return [nearest(M.success, SOf(x)), nearest(M.amplitude, aOf(y)), x, y];
  }
  const tooltip = document.getElementById("qkit-phase-tooltip");
  canvas.addEventListener("click", (ev) => {
    const [i, j] = eventIndex(ev);
    showMixup(i, j);
  });
  canvas.addEventListener("mousemove", (ev) => {
    const [i, j, x, y] = eventIndex(ev);
    const v = cell(i, j);
    tooltip.textContent =
      `S=${M.success[i]} a=${M.amplitude[j]}\nC=${v[field("concurrence")]}\n` +
      `E_F=${v[iE]}\nCHSH=${v[field("chsh_max")]}`;
    tooltip.style.left = `${Math.min(x + 12, canvas.width - 150)}px`;
    tooltip.style.top = `${Math.min(y + 12, canvas.height - 70)}px`;
    tooltip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; });
  document.getElementById("qkit-phase-mixup-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const typedS = document.getElementById("qkit-phase-S").value;
    const typedA = document.getElementById("qkit-phase-a").value;
    const S = parseFloat(typedS), a = parseFloat(typedA);
    // refuse what `qkit theory mixup` refuses, with its words; valid values snap to the grid
    const message = refused("success", S) || refused("amplitude", a);
    if (message) showRefusal(message, typedS, typedA);
    else showMixup(nearest(M.success, S), nearest(M.amplitude, a));
  });

  // ---- paper B canvas --------------------------------------------------------------------
  const cc = document.getElementById("qkit-phase-channel");
  const cx = cc.getContext("2d");
  const cp = { left: 48, right: 12, top: 14, bottom: 40 };
  const cW = cc.width - cp.left - cp.right, cH = cc.height - cp.top - cp.bottom;
  const curves = [
    ["chi2_entangled", "#0072B2", [], "χ₂ entangled"],
    ["chi2_separable", "#0072B2", [5, 4], "χ₂ separable"],
    ["capacity_entangled", "#D55E00", [], "C entangled"],
    ["capacity_separable", "#D55E00", [5, 4], "C separable"],
  ];
  const yMax = 2.4;
  const ex = (eta) => cp.left + eta * cW;
  const ey = (v) => cp.top + (1 - v / yMax) * cH;
  function drawChannel(k) {
    cx.clearRect(0, 0, cc.width, cc.height);
    cx.font = "12px sans-serif";
    for (const [name, colour, dash, label] of curves) {
      const f = cfield(name);
      cx.strokeStyle = colour;
      cx.setLineDash(dash);
      cx.lineWidth = 2;
      cx.beginPath();
      C.eta.forEach((eta, n) => {
        const y = ey(parseFloat(C.values[n][f]));
        if (n === 0) cx.moveTo(ex(eta), y); else cx.lineTo(ex(eta), y);
      });
      cx.stroke();
    }
    cx.setLineDash([]);
    // sampled two-slot mutual information (capacity panel)
    for (const [key, byInputs] of Object.entries(samples.channel)) {
      for (const [which, v] of Object.entries(byInputs)) {
        cx.strokeStyle = which.startsWith("entangled") ? "#000" : "#666";
        cx.beginPath();
        cx.moveTo(ex(Number(key)), ey(Number(v[1])));
        cx.lineTo(ex(Number(key)), ey(Number(v[2])));
        cx.stroke();
        cx.beginPath();
        cx.arc(ex(Number(key)), ey(Number(v[0])), 3, 0, 2 * Math.PI);
        cx.stroke();
      }
    }
    cx.strokeStyle = "#000";
    cx.fillStyle = "#000";
    cx.lineWidth = 1;
    cx.strokeRect(cp.left, cp.top, cW, cH);
    cx.textAlign = "center";
    for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1.0]) cx.fillText(t.toFixed(1), ex(t), cp.top + cH + 16);
    cx.fillText("noise correlation η", cp.left + cW / 2, cp.top + cH + 32);
    cx.textAlign = "right";
    for (const t of [0, 0.5, 1, 1.5, 2]) cx.fillText(t.toFixed(1), cp.left - 6, ey(t) + 4);
    cx.save();
    cx.translate(14, cp.top + cH / 2);
    cx.rotate(-Math.PI / 2);
    cx.textAlign = "center";
    cx.fillText("bits per use of two slots", 0, 0);
    cx.restore();
    cx.textAlign = "left";
    curves.forEach(([, colour, dash, label], n) => {
      const y = ey(1.7) + 14 * n;
      cx.strokeStyle = colour; cx.setLineDash(dash); cx.lineWidth = 2;
      cx.beginPath(); cx.moveTo(cp.left + 8, y - 4); cx.lineTo(cp.left + 30, y - 4); cx.stroke();
      cx.setLineDash([]); cx.fillStyle = "#000"; cx.fillText(label, cp.left + 34, y);
    });
    if (k !== undefined) {
      cx.strokeStyle = "#444"; cx.lineWidth = 1; cx.setLineDash([2, 3]);
      cx.beginPath(); cx.moveTo(ex(C.eta[k]), cp.top); cx.lineTo(ex(C.eta[k]), cp.top + cH); cx.stroke();
      cx.setLineDash([]);
    }
  }
  function showChannel(k) {
    const eta = C.eta[k];
    document.getElementById("qkit-phase-channel-command").textContent = `qkit theory channel --eta ${eta}`;
    const out = document.getElementById("qkit-phase-channel-output");
    out.textContent = printed(C.title, C.fields, C.values[k]);
    out.dataset.eta = String(eta);
    document.getElementById("qkit-phase-eta").value = eta;
    document.getElementById("qkit-phase-eta-value").textContent = `η = ${eta}`;
    const box = document.getElementById("qkit-phase-channel-sample");
    const s = samples.channel[fmt2(eta)];
    if (s) {
      box.innerHTML = "";
      const p = document.createElement("p");
      p.textContent = "Sampled mutual information (bits, 95% interval):";
      const table = document.createElement("table");
      for (const [which, v] of Object.entries(s)) {
        const tr = table.insertRow();
        tr.insertCell().textContent = which;
        tr.insertCell().textContent = interval(v);
      }
      box.append(p, table);
    } else {
      box.textContent = "Not sampled by the shipped sweep (it sampled η = 0, 0.1, ..., 1).";
    }
    drawChannel(k);
  }
  cc.addEventListener("click", (ev) => {
    const r = cc.getBoundingClientRect();
    const x = ((ev.clientX - r.left) * cc.width) / r.width;
    showChannel(nearest(C.eta, (x - cp.left) / cW));
  });
  document.getElementById("qkit-phase-eta").addEventListener("input", (ev) => {
    showChannel(nearest(C.eta, parseFloat(ev.target.value)));
  });

  document.getElementById("qkit-phase-sweeps").textContent =
    "Shipped sweeps: " + Object.values(samples.commands).join("; ") + ".";

  // for tests and readers: where a point is on the canvas (CSS pixels from its top left)
  window.qkitPhase = {
    pixelOf(S, a) {
      const r = canvas.getBoundingClientRect();
      return [(xOf(S) * r.width) / canvas.width, (yOf(a) * r.height) / canvas.height];
    },
    pixelOfEta(eta) {
      const r = cc.getBoundingClientRect();
      return [(ex(eta) * r.width) / cc.width, ((cp.top + cH / 2) * r.height) / cc.height];
    },
  };
  showMixup(nearest(M.success, 0.5), nearest(M.amplitude, 0.3));
  showChannel(nearest(C.eta, 1.0));
})();
