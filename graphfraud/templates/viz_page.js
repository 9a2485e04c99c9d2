// graphfraud ring network view: draws the network (positions from Python, physics off), the
// pattern / ring filter, node search and the details panel.
// Every value from the data reaches the page as text: vis-network shows string titles with
// innerText, and this script only ever sets textContent, never innerHTML.
(function () {
  "use strict";
  var root = document.documentElement;
  // anything the Content-Security-Policy blocks (an outside request, an injected script) shows
  // as an attribute that the tests look for
  document.addEventListener("securitypolicyviolation", function (e) {
    root.setAttribute("data-csp-violation", e.violatedDirective + " " + (e.blockedURI || ""));
  });

  function start() {
    var data = JSON.parse(document.getElementById("viz-data").textContent);
    var T = data.text;
    var container = document.getElementById("viz-network");
    var detail = document.getElementById("viz-detail");
    var ringSelect = document.getElementById("viz-ring");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input.viz-pattern"));
    var search = document.getElementById("viz-search");
    var nodeById = {};
    var edgeById = {};
    data.nodes.forEach(function (n) { nodeById[n.id] = n; });
    data.edges.forEach(function (e) { edgeById[e.id] = e; });
    var ringIndex = {};
    data.rings.forEach(function (r, i) { ringIndex[r.id] = i; });

    function showLines(lines) {
      while (detail.firstChild) { detail.removeChild(detail.firstChild); }
      lines.forEach(function (line, i) {
        var div = document.createElement("div");
        div.className = i === 0 ? "viz-detail-head" : "viz-detail-line";
        div.textContent = line;
        detail.appendChild(div);
      });
    }
    function showNode(id) { showLines(nodeById[id].title.split("\n")); }
    function showEdge(id) { showLines(edgeById[id].title.split("\n")); }

    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var network = new vis.Network(container, {nodes: nodes, edges: edges}, data.options);
    // vis-network fits the nodes' shapes edge to edge: leave a margin for labels
    function fitAll(ids) {
      network.fit(ids ? {nodes: ids, animation: false} : {animation: false});
      network.moveTo({scale: network.getScale() * 0.9, animation: false});
    }
    fitAll();
    // until the user moves the view, keep the whole network in it when the window changes size
    var userMoved = false;
    network.on("dragStart", function () { userMoved = true; });
    network.on("zoom", function () { userMoved = true; });
    network.on("resize", function () { if (!userMoved) { fitAll(); } });
    network.once("afterDrawing", function () {
      // the tests' marker: vis has drawn, with this many nodes
      root.setAttribute("data-rendered", String(Object.keys(network.getPositions()).length));
    });

    function applyFilter() {
      var wanted = {};
      boxes.forEach(function (b) { if (b.checked) { wanted[b.value] = true; } });
      var only = ringSelect ? ringSelect.value : "";
      var ringOk = data.rings.map(function (r) {
        return (only === "" || only === r.id) && r.patterns.some(function (p) { return wanted[p]; });
      });
      var shown = {};
      var nodeChanges = [];
      var count = 0;
      data.nodes.forEach(function (n) {
        var visible = n.rings.some(function (i) { return ringOk[i]; });
        if (visible) { shown[n.id] = true; count += 1; }
        nodeChanges.push({id: n.id, hidden: !visible});
      });
      var edgeCount = 0;
      var edgeChanges = data.edges.map(function (e) {
        var visible = shown[e.from] === true && shown[e.to] === true;
        if (visible) { edgeCount += 1; }
        return {id: e.id, hidden: !visible};
      });
      nodes.update(nodeChanges);
      edges.update(edgeChanges);
      container.setAttribute("data-visible", String(count));
      container.setAttribute("data-visible-edges", String(edgeCount));
      document.getElementById("viz-count").textContent =
        T.visible.replace("{n}", String(count)).replace("{m}", String(edgeCount));
    }

    function findNodes() {
      var q = search.value.trim().toLowerCase();
      if (!q) { network.unselectAll(); return; }
      var hits = data.nodes.filter(function (n) {
        return n.label.toLowerCase().indexOf(q) >= 0 && nodes.get(n.id).hidden !== true;
      }).map(function (n) { return n.id; });
      network.selectNodes(hits);
      if (hits.length === 1) {
        network.focus(hits[0], {scale: 1.2});
        showNode(hits[0]);
      } else if (hits.length > 1) {
        fitAll(hits);
        showLines([T.found.replace("{n}", String(hits.length))]);
      } else {
        showLines([T.not_found]);
      }
    }

    // #node=12&ring=R-3f9a1c2e&patterns=co_visit,dense_block: open the view on a node, a ring or
    // some patterns (the values are only looked up, never written into the page)
    function applyHash() {
      var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
      if (params.has("patterns")) {
        var list = params.get("patterns").split(",");
        boxes.forEach(function (b) { b.checked = list.indexOf(b.value) >= 0; });
      }
      if (ringSelect && params.has("ring") && ringIndex.hasOwnProperty(params.get("ring"))) {
        ringSelect.value = params.get("ring");
      }
      applyFilter();
      var id = Number(params.get("node"));
      if (params.has("node") && nodeById.hasOwnProperty(id)) {
        network.selectNodes([id]);
        network.focus(id, {scale: 1.2});
        showNode(id);
      }
    }

    network.on("click", function (params) {
      if (params.nodes.length > 0) {
        showNode(params.nodes[0]);
      } else if (params.edges.length > 0) {
        showEdge(params.edges[0]);
      } else {
        showLines([T.hint]);
      }
    });
    boxes.forEach(function (b) { b.addEventListener("change", applyFilter); });
    if (ringSelect) { ringSelect.addEventListener("change", applyFilter); }
    Array.prototype.forEach.call(document.querySelectorAll("button.viz-only-ring"), function (b) {
      b.addEventListener("click", function () {
        if (ringSelect && ringIndex.hasOwnProperty(b.getAttribute("data-ring"))) {
          ringSelect.value = b.getAttribute("data-ring");
          applyFilter();
          fitAll();
        }
      });
    });
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") { findNodes(); } });
    document.getElementById("viz-find").addEventListener("click", findNodes);
    document.getElementById("viz-fit").addEventListener("click", function () { fitAll(); });
    document.getElementById("viz-reset").addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = true; });
      if (ringSelect) { ringSelect.value = ""; }
      search.value = "";
      network.unselectAll();
      showLines([T.hint]);
      applyFilter();
      fitAll();
    });
    window.addEventListener("hashchange", applyHash);
    applyHash();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
