// The graph page. Every element is built with createElement and text nodes, never innerHTML:
// names and sentences come from articles and must show as text, whatever they contain.
//
// For tests and benchmarks the page exposes one read-only object, window.newskg:
//   network  the vis.Network (positions, selection, view: getPositions, canvasToDOM, ...)
//   nodes    the vis.DataView of the entities drawn (those that pass the filters)
//   edges    the vis.DataView of the facts drawn
//   drawn    a Promise of the time, in ms since the page was opened, of the first complete drawing
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const typeById = new Map(data.types.map((type) => [type.id, type]));
  const relationById = new Map(data.relations.map((relation) => [relation.id, relation]));
  const edgesByNode = data.nodes.map(() => []);
  for (const edge of data.edges) {
    edgesByNode[edge.from].push(edge);
    if (edge.to !== edge.from) edgesByNode[edge.to].push(edge);
  }
  const numberFormat = new Intl.NumberFormat("en");

  const state = {
    types: new Set(data.types.map((type) => type.id)),
    relations: new Set(data.relations.map((relation) => relation.id)),
    sources: new Set(data.sources.map((_, index) => index)),
    minConfidence: 0,
    hideSingleSource: false,
    // Large graphs open on their top entities by PageRank; the others are revealed on demand.
    revealed: new Set(data.nodes.filter((node) => node.initial).map((node) => node.id)),
  };

  // --- DOM helpers ---------------------------------------------------------------------------

  function h(tag, properties, ...children) {
    const element = document.createElement(tag);
    Object.assign(element, properties);
    element.append(...children.filter((child) => child !== null && child !== undefined));
    return element;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  // vis-network's own shapes, drawn in a 16 x 16 box; anything else is drawn as a dot.
  const SHAPE_POINTS = {
    square: "2,2 14,2 14,14 2,14",
    box: "1,3 15,3 15,13 1,13",
    diamond: "8,1 15,8 8,15 1,8",
    triangle: "8,1.5 15,14 1,14",
    triangleDown: "1,2 15,2 8,14.5",
    hexagon: "4,1.5 12,1.5 15.5,8 12,14.5 4,14.5 0.5,8",
    star: "8,0.5 10.2,5.8 15.5,5.8 11.2,9.3 12.8,15 8,11.6 3.2,15 4.8,9.3 0.5,5.8 5.8,5.8",
  };

  function svgElement(tag, attributes) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  }

  function shapeSwatch(type) {
    const svg = svgElement("svg", { viewBox: "0 0 16 16", class: "swatch", "aria-hidden": "true" });
    const points = SHAPE_POINTS[type.shape];
    svg.append(points
      ? svgElement("polygon", { points, fill: type.color })
      : svgElement("circle", { cx: 8, cy: 8, r: 6.5, fill: type.color }));
    return svg;
  }

  function lineSwatch(relation) {
    const svg = svgElement("svg", { viewBox: "0 0 16 16", class: "swatch", "aria-hidden": "true" });
    const end = relation.symmetric ? 15 : 11;
    const line = { x1: 1, y1: 8, x2: end, y2: 8, stroke: relation.color, "stroke-width": 2.5 };
    svg.append(svgElement("line", line));
    if (!relation.symmetric) {
      svg.append(svgElement("polygon", { points: "10,4 15.5,8 10,12", fill: relation.color }));
    }
    return svg;
  }

  function formatCount(count, singular, plural) {
    return `${numberFormat.format(count)} ${count === 1 ? singular : plural}`;
  }

  function sourceName(source) {
    return source.title || source.id;
  }

  function sourceLink(source) {
    // href is a percent-encoded path relative to the page, made by the Python side.
    const properties = { title: source.id };
    return source.href
      ? h("a", { ...properties, href: source.href, target: "_blank", rel: "noopener" }, sourceName(source))
      : h("span", properties, sourceName(source));
  }

  // --- filters -------------------------------------------------------------------------------

  function nodePasses(id) {
    const node = data.nodes[id];
    return state.revealed.has(id)
      && state.types.has(node.type)
      && (node.sources.length === 0 || node.sources.some((source) => state.sources.has(source)));
  }

  function claimPasses(claim) {
    return (claim.source === null || state.sources.has(claim.source))
      && (claim.confidence ?? 0) >= state.minConfidence;
  }

  function edgePasses(edge) {
    if (!state.relations.has(edge.relation)) return false;
    if (!nodePasses(edge.from) || !nodePasses(edge.to)) return false;
    const passing = edge.claims.filter(claimPasses);
    if (edge.claims.length > 0 && passing.length === 0) return false;
    return !state.hideSingleSource || new Set(passing.map((claim) => claim.source)).size > 1;
  }

  // --- the network ---------------------------------------------------------------------------

  const LABEL_PX = 18;
  // A large graph opens zoomed far out, where labels are too small to read and are not drawn;
  // its most central entities keep labels of at least HEADLINE_SCREEN_PX on screen.
  const HEADLINE_COUNT = 10;
  const HEADLINE_SCREEN_PX = 14;
  const headlines = new Set(data.nodes.length <= data.initialLimit ? [] : [...data.nodes]
    .sort((a, b) => b.rank - a.rank)
    .slice(0, HEADLINE_COUNT)
    .map((node) => node.id));

  function visNode(node) {
    const type = typeById.get(node.type);
    return {
      id: node.id,
      label: node.label,
      font: { size: LABEL_PX },
      title: `${node.label} (${type.label})`,
      x: node.x,
      y: node.y,
      size: node.size,
      shape: type.shape,
      color: {
        background: type.color,
        border: type.color,
        highlight: { background: type.color, border: "#1f2328" },
      },
    };
  }

  // Facts between the same two entities would be drawn on top of one another: all but the
  // first curve away from the straight line, alternately to either side.
  const parallelIndex = new Map();
  {
    const countByPair = new Map();
    for (const edge of data.edges) {
      const pair = `${Math.min(edge.from, edge.to)} ${Math.max(edge.from, edge.to)}`;
      const index = countByPair.get(pair) ?? 0;
      countByPair.set(pair, index + 1);
      parallelIndex.set(edge.id, index);
    }
  }

  function edgeCurve(edge) {
    const index = parallelIndex.get(edge.id);
    if (index === 0) return false;
    // The side is taken relative to the lower-numbered end, whichever way the fact points.
    const clockwise = (index % 2 === 1) === (edge.from < edge.to);
    return { enabled: true, type: clockwise ? "curvedCW" : "curvedCCW", roundness: 0.3 * Math.ceil(index / 2) };
  }

  function edgeWidth(edge) {
    return Math.min(1 + 1.5 * Math.max(edge.sourceCount - 1, 0), 8);
  }

  function edgeTooltip(edge, relation) {
    const notes = [formatCount(edge.sourceCount, "source", "sources")];
    if (edge.hedged) notes.push("hedged");
    if (edge.disputed) notes.push("disputed");
    const [from, to] = [data.nodes[edge.from].label, data.nodes[edge.to].label];
    return `${from} ${relation.label} ${to} (${notes.join(", ")})`;
  }

  function visEdge(edge) {
    const relation = relationById.get(edge.relation);
    return {
      id: edge.id,
      from: edge.from,
      to: edge.to,
      relation: edge.relation,
      label: edge.disputed ? `${relation.label} ⚠` : relation.label,
      title: edgeTooltip(edge, relation),
      color: { color: relation.color, highlight: relation.color, hover: relation.color },
      font: { color: edge.disputed ? "#c62828" : "#59636e" },
      dashes: edge.hedged,
      smooth: edgeCurve(edge),
      width: edgeWidth(edge),
      arrows: { to: { enabled: !relation.symmetric, scaleFactor: 0.6 } },
    };
  }

  // Filtered views over all nodes and edges: a filter change is a refresh, never a rebuild.
  const nodeData = new vis.DataSet(data.nodes.map(visNode));
  const nodeView = new vis.DataView(nodeData, {
    filter: (item) => nodePasses(item.id),
  });
  const edgeView = new vis.DataView(new vis.DataSet(data.edges.map(visEdge)), {
    filter: (item) => edgePasses(data.edges[item.id]),
  });
  const font = { face: "system-ui, sans-serif", strokeWidth: 4, strokeColor: "#ffffff" };
  const network = new vis.Network(document.getElementById("network"), { nodes: nodeView, edges: edgeView }, {
    // Positions come from the Python layout: no physics, so the page appears at once.
    physics: false,
    interaction: { hover: true, tooltipDelay: 200, hideEdgesOnDrag: data.edges.length > 1000 },
    nodes: {
      borderWidth: 1,
      font: { ...font, color: "#1f2328" },
      // Labels under 6 px on screen are not drawn: unreadable, and they cost redraw time.
      scaling: { label: { drawThreshold: 7 } },
    },
    edges: { smooth: false, selectionWidth: 1.5, font: { ...font, size: 14, align: "middle" } },
  });
  const drawn = new Promise((resolve) => {
    network.once("afterDrawing", () => resolve(performance.now()));
  });
  window.newskg = Object.freeze({ network, nodes: nodeView, edges: edgeView, drawn });

  let headlinePx = LABEL_PX;
  function resizeHeadlines() {
    const size = Math.round(Math.max(LABEL_PX, HEADLINE_SCREEN_PX / network.getScale()));
    if (headlines.size === 0 || size === headlinePx) return;
    headlinePx = size;
    nodeData.update([...headlines].map((id) => ({ id, font: { size } })));
  }
  network.on("zoom", resizeHeadlines);
  network.on("animationFinished", resizeHeadlines);

  function refresh() {
    nodeView.refresh();
    edgeView.refresh();
    updateStatus();
  }

  function updateStatus() {
    const hidden = data.nodes.length - state.revealed.size;
    const status = document.getElementById("status");
    const showAll = document.getElementById("show-all");
    showAll.hidden = hidden === 0;
    showAll.textContent = `Show all ${formatCount(data.nodes.length, "entity", "entities")}`;
    const entities = formatCount(data.nodes.length, "entity", "entities");
    status.textContent = hidden === 0
      ? `Showing ${formatCount(nodeView.length, "entity", "entities")} and `
        + `${formatCount(edgeView.length, "link", "links")} that pass the filters.`
      : `Showing ${numberFormat.format(state.revealed.size)} of ${entities}, the most central first; `
        + "double-click an entity to show its neighbours.";
  }

  function focusNode(id) {
    state.revealed.add(id);
    refresh();
    if (nodeView.get(id)) {
      network.selectNodes([id]);
      network.focus(id, { scale: Math.max(network.getScale(), 1), animation: { duration: 400 } });
    }
    showNode(id);
  }

  function focusEdge(id) {
    const edge = data.edges[id];
    state.revealed.add(edge.from);
    state.revealed.add(edge.to);
    refresh();
    if (edgeView.get(id)) network.selectEdges([id]);
    showEdge(id);
  }

  function hiddenNeighbours(id) {
    const ends = edgesByNode[id].flatMap((edge) => [edge.from, edge.to]);
    return new Set(ends.filter((end) => !state.revealed.has(end)));
  }

  function revealNeighbours(id) {
    for (const end of hiddenNeighbours(id)) state.revealed.add(end);
    refresh();
    if (details.dataset.node === String(id)) showNode(id);
  }

  network.on("click", (event) => {
    if (event.nodes.length > 0) showNode(event.nodes[0]);
    else if (event.edges.length > 0) showEdge(event.edges[0]);
    else showHint();
  });
  network.on("doubleClick", (event) => {
    if (event.nodes.length > 0) revealNeighbours(event.nodes[0]);
  });
  // Dragged entities go back to their computed place on "Reset layout".
  const dragged = new Set();
  network.on("dragEnd", (event) => {
    for (const id of event.nodes) dragged.add(id);
  });

  // --- the details panel ---------------------------------------------------------------------

  const details = document.getElementById("details");

  function setDetails(nodeId, ...children) {
    // The entity the panel shows, if any, so that revealing its neighbours can refresh it.
    details.dataset.node = nodeId ?? "";
    details.replaceChildren(...children.filter((child) => child !== null));
    details.scrollTop = 0;
  }

  function showHint() {
    setDetails(
      null,
      h("h2", {}, "Details"),
      h("p", { className: "hint" },
        "Click an entity to see what is known about it, or a link to read the sentences that state it. "
        + "Double-click an entity to show its neighbours; drag to move, scroll to zoom."),
    );
  }

  function nodeButton(id) {
    const properties = { type: "button", className: "link-button", onclick: () => focusNode(id) };
    return h("button", properties, data.nodes[id].label);
  }

  function typeBadge(node) {
    const type = typeById.get(node.type);
    return h("span", { className: "badge" }, shapeSwatch(type), type.label);
  }

  function definitions(pairs) {
    const list = h("dl", { className: "facts" });
    for (const [term, value] of pairs) {
      if (value !== null && value !== undefined && value !== "") {
        list.append(h("dt", {}, term), h("dd", {}, value));
      }
    }
    return list;
  }

  // A fact as a short sentence: "invests in Contoso" from its subject, "Northwind invests in
  // Contoso" from its object; the other entity's name focuses it, the relation opens the claims.
  function factRow(edge, id) {
    const relation = relationById.get(edge.relation);
    const outgoing = edge.from === id || relation.symmetric;
    const other = edge.from === id ? edge.to : edge.from;
    const relationButton = h("button", {
      type: "button",
      className: "link-button relation-name",
      title: "Show the claims",
      onclick: () => focusEdge(edge.id),
    }, relation.label);
    const className = edgePasses(edge) ? "fact-row" : "fact-row filtered-out";
    const row = h("li", { className }, lineSwatch(relation));
    if (outgoing) row.append(relationButton, nodeButton(other));
    else row.append(nodeButton(other), relationButton, h("span", {}, data.nodes[id].label));
    row.append(h("span", { className: "muted" }, formatCount(edge.sourceCount, "source", "sources")));
    if (edge.disputed) {
      row.append(h("span", { className: "warning", title: "sources disagree on a detail" }, "⚠"));
    }
    return row;
  }

  function showNode(id) {
    const node = data.nodes[id];
    const wikidataLink = (link) =>
      h("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, link.split("/").pop());
    const wikidata = node.wikidata.length > 0 ? h("span", {}, ...node.wikidata.map(wikidataLink)) : null;
    const facts = edgesByNode[id];
    const hidden = hiddenNeighbours(id).size;
    const reveal = hidden === 0 ? null : h("button", {
      type: "button",
      className: "reveal",
      onclick: () => revealNeighbours(id),
    }, `Show ${formatCount(hidden, "hidden neighbour", "hidden neighbours")}`);
    setDetails(
      id,
      h("h2", { className: "title" }, node.label),
      typeBadge(node),
      nodePasses(id) ? null : h("p", { className: "muted" }, "Hidden by the current filters."),
      reveal,
      definitions([
        ["Also called", node.aliases.join(", ")],
        ["Wikidata", wikidata],
        ["Founded", node.foundingDate.join(", ")],
        ["IRI", node.iri],
      ]),
      h("h3", {}, `Facts (${facts.length})`),
      facts.length > 0
        ? h("ul", { className: "plain" }, ...facts.map((edge) => factRow(edge, id)))
        : h("p", { className: "muted" }, "No facts about this entity."),
      h("h3", {}, `Mentioned in (${node.sources.length})`),
      h("ul", { className: "plain" },
        ...node.sources.map((index) => h("li", {}, sourceLink(data.sources[index])))),
    );
  }

  function quote(evidence) {
    // Highlight offsets count code points, as Python does; Array.from splits a string into them.
    const characters = Array.from(evidence.exact);
    const block = h("blockquote", {});
    let at = 0;
    for (const [start, end, role] of evidence.highlights) {
      const name = characters.slice(start, end).join("");
      block.append(characters.slice(at, start).join(""), h("mark", { className: role }, name));
      at = end;
    }
    block.append(characters.slice(at).join(""));
    const where = evidence.start === null
      ? null
      : h("div", { className: "muted" }, `characters ${evidence.start}–${evidence.end} of the source`);
    return h("div", {}, block, where);
  }

  function amountText(claim) {
    if (claim.amount === null) return claim.undisclosed ? "undisclosed" : null;
    return claim.approximate ? `approx. ${claim.amount}` : claim.amount;
  }

  function claimCard(claim) {
    const classes = ["claim"];
    if (claim.disputed) classes.push("disputed");
    if (!claimPasses(claim)) classes.push("filtered-out");
    const card = h("article", { className: classes.join(" ") });
    const patterns = new Set([...claim.patterns, ...claim.evidence.map((evidence) => evidence.pattern)]);
    patterns.delete(null);
    card.append(
      claim.source === null
        ? h("p", { className: "muted" }, "No source recorded.")
        : h("div", {}, sourceLink(data.sources[claim.source])),
      ...claim.evidence.map(quote),
      definitions([
        ["Confidence", claim.confidence === null ? null : claim.confidence.toFixed(2)],
        ["Amount", amountText(claim)],
        ["Hedged", claim.hedged ? "yes" : "no"],
        ["Reported by", claim.reportedBy],
        ["Role", claim.role],
        ["Date", claim.date],
        ["Pattern", [...patterns].join(", ")],
        ["Disputed", claim.disputed ? "another source disagrees on a detail" : null],
      ]),
    );
    return card;
  }

  function showEdge(id) {
    const edge = data.edges[id];
    const relation = relationById.get(edge.relation);
    const badges = [h("span", { className: "badge" }, lineSwatch(relation), relation.label)];
    if (edge.hedged) badges.push(h("span", { className: "badge" }, "hedged"));
    if (edge.disputed) badges.push(h("span", { className: "badge alert" }, "⚠ disputed"));
    const arrow = relation.symmetric ? "↔" : "→";
    const claims = formatCount(edge.claims.length, "claim", "claims");
    setDetails(
      null,
      h("h2", { className: "title" }, nodeButton(edge.from), ` ${arrow} `, nodeButton(edge.to)),
      ...badges,
      h("h3", {}, `${claims} from ${formatCount(edge.sourceCount, "source", "sources")}`),
      // The key to the marks in the sentences below.
      h("p", { className: "muted" },
        h("mark", { className: "subject" }, data.nodes[edge.from].label), " ",
        h("mark", { className: "object" }, data.nodes[edge.to].label)),
      ...edge.claims.map(claimCard),
    );
  }

  // --- legend, filters and tools -------------------------------------------------------------

  function checkItem(checked, onChange, swatch, name, count) {
    const onchange = (event) => onChange(event.target.checked);
    const box = h("input", { type: "checkbox", checked, onchange });
    return h("li", { className: count === 0 ? "empty" : "" },
      h("label", {}, box, swatch, h("span", { className: "name", title: name }, name),
        count === null ? null : h("span", { className: "count" }, numberFormat.format(count))));
  }

  function toggle(set, key) {
    return (checked) => {
      if (checked) set.add(key);
      else set.delete(key);
      refresh();
    };
  }

  document.getElementById("type-filters").append(...data.types.map((type) =>
    checkItem(true, toggle(state.types, type.id), shapeSwatch(type), type.label, type.count)));
  document.getElementById("relation-filters").append(...data.relations.map((relation) =>
    checkItem(true, toggle(state.relations, relation.id), lineSwatch(relation), relation.label,
      relation.count)));

  const sourceList = document.getElementById("source-filters");
  sourceList.append(...data.sources.map((source, index) =>
    checkItem(true, toggle(state.sources, index), null, sourceName(source), null)));

  function setAllSources(checked) {
    for (const box of sourceList.querySelectorAll("input")) box.checked = checked;
    state.sources = new Set(checked ? data.sources.map((_, index) => index) : []);
    refresh();
  }
  document.getElementById("sources-all").addEventListener("click", () => setAllSources(true));
  document.getElementById("sources-none").addEventListener("click", () => setAllSources(false));

  const confidence = document.getElementById("min-confidence");
  confidence.addEventListener("input", () => {
    state.minConfidence = Number(confidence.value);
    document.getElementById("min-confidence-value").textContent = state.minConfidence.toFixed(2);
    refresh();
  });
  document.getElementById("hide-single-source").addEventListener("change", (event) => {
    state.hideSingleSource = event.target.checked;
    refresh();
  });

  // The search list offers each label; a label that several entities share is told apart by
  // the end of each one's IRI.
  const labelCounts = new Map();
  for (const node of data.nodes) labelCounts.set(node.label, (labelCounts.get(node.label) || 0) + 1);
  const nodeByName = new Map(data.nodes.map((node) => [
    labelCounts.get(node.label) > 1 ? `${node.label} (${node.iri.split("/").pop()})` : node.label,
    node.id,
  ]));
  const names = [...nodeByName.keys()].sort((a, b) => a.localeCompare(b));
  document.getElementById("entity-names").append(...names.map((name) => h("option", { value: name })));

  // What is typed is matched regardless of case, against the listed names, then the labels,
  // then the aliases ("Acme" finds Acme Corporation); set in the reverse order, so the
  // first of these wins.
  const nodeByTypedName = new Map();
  for (const node of data.nodes) {
    for (const alias of node.aliases) nodeByTypedName.set(alias.toLowerCase(), node.id);
  }
  for (const node of data.nodes) nodeByTypedName.set(node.label.toLowerCase(), node.id);
  for (const [name, id] of nodeByName) nodeByTypedName.set(name.toLowerCase(), id);

  const search = document.getElementById("search");
  function runSearch() {
    const id = nodeByName.get(search.value) ?? nodeByTypedName.get(search.value.trim().toLowerCase());
    search.classList.toggle("not-found", id === undefined && search.value !== "");
    if (id !== undefined) focusNode(id);
  }
  search.addEventListener("change", runSearch);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") runSearch();
  });

  function fitView() {
    network.fit();
    // A small graph would otherwise be blown up to fill the canvas; and fit() leaves no room
    // for the labels of the outermost entities.
    network.moveTo({ scale: Math.min(network.getScale() * 0.92, 1) });
    resizeHeadlines();
  }

  function resetLayout() {
    for (const id of dragged) network.moveNode(id, data.nodes[id].x, data.nodes[id].y);
    dragged.clear();
    fitView();
  }

  document.getElementById("reset-view").addEventListener("click", resetLayout);
  document.getElementById("show-all").addEventListener("click", () => {
    state.revealed = new Set(data.nodes.map((node) => node.id));
    refresh();
    fitView();
  });

  showHint();
  updateStatus();
  fitView();
})();
