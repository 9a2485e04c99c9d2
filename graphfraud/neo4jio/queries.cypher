// graphfraud investigator queries for Neo4j 5 (graphfraud 调查查询包)
//
// For the graph written by `graphfraud neo4j export` or `graphfraud neo4j push`
// (labels Person, Card, Provider, Doctor, Staff, Ring; every node's key is the property `id`).
// Every value is a parameter: set it first, then run the query.
//   Neo4j Browser:  :param ring_id => 'R-c41d982c'
//   cypher-shell:   :param ring_id => 'R-c41d982c'    (then paste the query, ending with ;)
// In the masked edition (the default) a person's or card's `id` is a pseudonym (P-…, K-…):
// take it from ring_members, card_users or person lookups; `shown_id` is the masked number.
// 本文件中的查询均使用参数，不含字面值。脱敏版中人员和医保卡的 id 为假名（P-…、K-…），
// 可从 ring_members 等查询结果中取得；shown_id 为脱敏后的证件号或卡号。

// name: ring_members
// params: $ring_id
// zh: 团伙的全部成员及其角色、是否关键成员和入选理由（关键成员在前）。
// en: A ring's members with their role, whether they are critical, and why they are in it (critical members first).
MATCH (m)-[r:MEMBER_OF]->(g:Ring {id: $ring_id})
RETURN labels(m)[0] AS label, m.id AS id, coalesce(m.shown_id, m.name, m.id) AS shown,
       r.role AS role, r.critical AS critical, r.reason AS reason
ORDER BY critical DESC, label, id;

// name: rings_sharing_members
// params: $ring_id
// zh: 与指定团伙有共同成员的其他团伙（例如逐月分析推送到同一数据库后，反复出现的团伙），按共同成员数排序。
// en: Other rings that share members with a ring (e.g. the same ring found again by another month's analysis pushed into the same database), most shared members first.
MATCH (g:Ring {id: $ring_id})<-[:MEMBER_OF]-(m)-[:MEMBER_OF]->(o:Ring)
WHERE o.id <> g.id
RETURN o.id AS ring_id, o.score AS score, o.fund_paid AS fund_paid, o.patterns AS patterns,
       count(DISTINCT m) AS shared_members, collect(DISTINCT m.id)[..20] AS members
ORDER BY shared_members DESC, ring_id;

// name: shortest_path
// params: $person_a, $person_b
// zh: 两名参保人之间经由医保卡和医药机构的最短关联路径（最多 8 步），显示路径上的每个节点和关系。
// en: The shortest link between two insured persons through cards and providers (at most 8 steps), with every node and relationship on the way.
MATCH (a:Person {id: $person_a}), (b:Person {id: $person_b})
MATCH p = shortestPath((a)-[:USES_CARD|VISITED*..8]-(b))
RETURN [n IN nodes(p) | labels(n)[0]] AS labels, [n IN nodes(p) | n.id] AS ids,
       [n IN nodes(p) | coalesce(n.shown_id, n.name, n.id)] AS shown,
       [r IN relationships(p) | type(r)] AS types, length(p) AS hops;

// name: card_users
// params: $card_id
// zh: 使用某张医保卡结算的全部参保人，及每人的结算笔数和统筹基金支付金额。
// en: Everyone who settled claims with a card, with their number of claims and the fund paid.
MATCH (p:Person)-[u:USES_CARD]->(c:Card {id: $card_id})
RETURN p.id AS person_id, coalesce(p.shown_id, p.id) AS shown, p.name AS name,
       u.claims AS claims, u.fund_paid AS fund_paid
ORDER BY claims DESC, person_id;

// name: doctor_pharmacies
// params: $doctor_id
// zh: 医师的处方流向了哪些药店（结算笔数、统筹基金支付），以及该医师是否在该机构执业。
// en: The pharmacies where a doctor's prescriptions were filled (claims, fund paid), and whether the doctor works there.
MATCH (d:Doctor {id: $doctor_id})-[x:PRESCRIBED_AT]->(ph:Provider)
OPTIONAL MATCH (d)-[w:WORKS_AT]->(ph)
RETURN ph.id AS provider_id, ph.name AS name, ph.region AS region, x.claims AS claims,
       x.fund_paid AS fund_paid, w IS NOT NULL AS works_there
ORDER BY fund_paid DESC, provider_id;

// name: staff_approvals
// params: $staff_id
// zh: 医保经办人员审核结算的医药机构，及结算笔数和统筹基金支付金额。
// en: The providers whose claims a staff member approved, with the number of claims and the fund paid.
MATCH (s:Staff {id: $staff_id})-[a:APPROVED]->(p:Provider)
RETURN p.id AS provider_id, p.name AS name, p.type AS type, a.claims AS claims,
       a.fund_paid AS fund_paid
ORDER BY fund_paid DESC, provider_id;

// name: top_rings_by_fund
// params: $limit
// zh: 涉案统筹基金金额最高的团伙（前 $limit 个）。
// en: The rings with the most fund paid (the first $limit).
MATCH (g:Ring)
RETURN g.id AS ring_id, g.score AS score, g.fund_paid AS fund_paid, g.claims AS claims,
       g.patterns AS patterns, g.period_start AS period_start, g.period_end AS period_end
ORDER BY fund_paid DESC, ring_id
LIMIT $limit;

// name: person_rings
// params: $person_id
// zh: 某参保人所属的全部团伙及其在各团伙中的角色。
// en: The rings a person belongs to, with the person's role in each.
MATCH (p:Person {id: $person_id})-[r:MEMBER_OF]->(g:Ring)
RETURN g.id AS ring_id, g.score AS score, g.fund_paid AS fund_paid, r.role AS role,
       r.critical AS critical
ORDER BY score DESC, ring_id;

// name: provider_rings
// params: $provider_id
// zh: 某医药机构作为成员出现的团伙，以及团伙成员在该机构的就诊情况。
// en: The rings a provider is a member of, and how often their member persons visited it.
MATCH (v:Provider {id: $provider_id})-[r:MEMBER_OF]->(g:Ring)
OPTIONAL MATCH (g)<-[:MEMBER_OF]-(p:Person)-[x:VISITED]->(v)
RETURN g.id AS ring_id, g.score AS score, r.role AS role, count(p) AS member_persons,
       sum(x.claims) AS claims, sum(x.fund_paid) AS fund_paid
ORDER BY score DESC, ring_id;

// name: shared_cards
// params: $limit
// zh: 被多名参保人使用的医保卡（冒用、借卡的线索），按使用人数排序。
// en: Cards used by more than one person (a sign of borrowed or misused cards), most users first.
MATCH (p:Person)-[u:USES_CARD]->(c:Card)
WITH c, count(p) AS users, sum(u.claims) AS claims, sum(u.fund_paid) AS fund_paid
WHERE users > 1
RETURN c.id AS card_id, coalesce(c.shown_id, c.id) AS shown, users, claims, fund_paid
ORDER BY users DESC, card_id
LIMIT $limit;

// name: ring_subgraph
// params: $ring_id
// zh: 团伙成员之间的全部关系（持卡、就诊、执业、处方、审核），在 Neo4j Browser 中显示为关系图。
// en: Every relationship among a ring's members (cards, visits, practice, prescriptions, approvals), drawn as a graph by Neo4j Browser.
MATCH (m)-[:MEMBER_OF]->(:Ring {id: $ring_id})
WITH collect(m) AS members
UNWIND members AS a
MATCH (a)-[r]->(b)
WHERE b IN members
RETURN a, r, b;
