/* The front desk's day, worked in place (templates/booking/desk/day.html).

   - A free box opens the booking in a panel on the same page: find the patient (or add a new
     one), confirm, done; the grid is then drawn again without reloading the page.
   - An appointment dragged onto another time, practitioner or room asks the server first
     (booking:desk_move_drop, the same rules as the move form): a refusal says why and the box
     stays where it was; an allowed drop asks for confirmation, then moves it and the patient
     is told as for any move. With the keyboard, the appointment's page has "Move".

   Progressive enhancement: without this script (or without htmx) every box is a link to a
   page that does the same, and nothing here is needed. The pages in the panel are the same
   views; they answer with their content alone when htmx asks for the panel
   (clinic.context_processors.page_frame), and a finished booking or move answers 204 with the
   `deskChanged` event (booking.desk.helpers.done). */
(function () {
  "use strict";
  var panel = document.getElementById("desk-panel");
  var body = document.getElementById("desk-panel-body");
  var live = document.getElementById("desk-live");
  if (!panel || !body || !window.htmx || typeof panel.showModal !== "function") return;

  var opener = null;

  function focusPanel() {
    var first = body.querySelector("h1, h2, h3");
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus();
    }
  }

  function openInPanel(url, from) {
    opener = from || document.activeElement;
    htmx.ajax("GET", url, { target: body, swap: "innerHTML" }).then(function () {
      if (!panel.open) panel.showModal();
      focusPanel();
    });
  }

  // A link or form in the panel that leads to a page made to stand alone (a course to book, the
  // waitlist) opens as that page, not squeezed into the panel.
  body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 200 && xhr.responseText.indexOf('id="panel-content"') === -1) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });

  // Each page the panel shows (a search, the booking form, an error) starts at its heading.
  body.addEventListener("htmx:afterSwap", function () {
    if (panel.open) focusPanel();
  });

  panel.addEventListener("close", function () {
    body.replaceChildren();
    if (opener && opener.isConnected) opener.focus();
  });

  panel.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-panel]")) {
      event.preventDefault();
      panel.close();
    }
  });

  document.addEventListener("click", function (event) {
    var free = event.target.closest("a.sched-free");
    if (!free || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openInPanel(free.href, free);
  });

  // A booking or a move went through: close the panel, draw the grid again, say what happened.
  document.body.addEventListener("deskChanged", function (event) {
    var message = (event.detail && event.detail.message) || "Done.";
    opener = null;
    panel.close();
    htmx
      .ajax("GET", window.location.href, {
        target: "#schedule-area",
        select: "#schedule-area",
        swap: "outerHTML",
      })
      .then(function () {
        live.textContent = message;
        live.hidden = false;
      });
  });

  // --- Drag and drop to move ---------------------------------------------------------------
  var dragged = null;
  var grab = 0; // where the box was taken, from its top (px): its top lands where it is dropped

  document.addEventListener("dragstart", function (event) {
    var box = event.target.closest && event.target.closest(".sched-appt[data-move]");
    if (!box) return;
    dragged = box;
    grab = event.clientY - box.getBoundingClientRect().top;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", box.getAttribute("data-move"));
    box.classList.add("sched-dragging");
  });

  function clearTargets() {
    document.querySelectorAll(".sched-drop-target").forEach(function (col) {
      col.classList.remove("sched-drop-target");
    });
  }

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("sched-dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var column = event.target.closest(".sched-col[data-drop]");
    if (!column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("sched-drop-target")) {
      clearTargets();
      column.classList.add("sched-drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var column = event.target.closest(".sched-col[data-drop]");
    var grid = column && column.querySelector(".sched-body[data-rows]");
    if (!grid) return;
    event.preventDefault();
    var rect = grid.getBoundingClientRect();
    var rowHeight = rect.height / Number(grid.getAttribute("data-rows"));
    var rows = Math.max(0, (event.clientY - grab - rect.top) / rowHeight);
    // Rows are 5 minutes; a drop lands on the quarter hour, as the booking pages offer.
    var minute = Number(grid.getAttribute("data-first-minute")) + rows * 5;
    minute = Math.round(minute / 15) * 15;
    var url = new URL(dragged.getAttribute("data-move"), window.location.href);
    url.searchParams.set("date", document.getElementById("schedule-area").getAttribute("data-day"));
    url.searchParams.set("minute", String(minute));
    new URLSearchParams(column.getAttribute("data-drop")).forEach(function (value, key) {
      url.searchParams.set(key, value);
    });
    openInPanel(url.toString(), dragged.querySelector("a"));
  });
})();
