// jsforce 3 against the Tandem emulator: OAuth password login via loginUrl, query, create, update.
// Trust comes from NODE_EXTRA_CA_CERTS pointing at the emulator's ca.pem.
const jsforce = require("jsforce");

async function main() {
  const [loginUrl, username, password, clientId, clientSecret] = process.argv.slice(2);
  const conn = new jsforce.Connection({
    loginUrl,
    version: "62.0",
    oauth2: { loginUrl, clientId, clientSecret },
  });
  await conn.login(username, password);
  const before = await conn.query("SELECT Id, LastName FROM Contact WHERE LastName = 'Coyote'");
  const created = await conn.sobject("Contact").create({ LastName: "FromJsforce", Email: "js@example.com" });
  if (!created.success) throw new Error("create failed: " + JSON.stringify(created));
  const updated = await conn.sobject("Contact").update({ Id: created.id, Title: "Node" });
  if (!updated.success) throw new Error("update failed: " + JSON.stringify(updated));
  const after = await conn.sobject("Contact").retrieve(created.id);
  const many = await conn.sobject("Contact").create([{ LastName: "JsA" }, { LastName: "JsB" }]);
  // SOAP: login without client credentials, then convertLead through conn.soap.
  const soapConn = new jsforce.Connection({ loginUrl, version: "62.0" });
  await soapConn.login(username, password);
  const lead = await soapConn.sobject("Lead").create({ LastName: "JsLead", Company: "Js Co", LeadSource: "Other" });
  const converted = await soapConn.soap.convertLead({
    leadId: lead.id, convertedStatus: "Closed - Converted", doNotCreateOpportunity: true,
  });
  const identity = await soapConn.identity();
  conn.bulk2.pollInterval = 50;
  const bulkStream = await conn.bulk2.query("SELECT Id, LastName FROM Contact WHERE LastName = 'Coyote'");
  const bulkRows = await new Promise((resolve, reject) => {
    const rows = [];
    bulkStream.on("record", (row) => rows.push(row));
    bulkStream.on("end", () => resolve(rows));
    bulkStream.on("error", reject);
  });
  console.log(JSON.stringify({
    soapUserId: soapConn.userInfo && soapConn.userInfo.id,
    converted: converted.success === true || converted.success === "true",
    convertedContactId: converted.contactId,
    identityUser: identity.user_id,
    bulkQueried: bulkRows.length,
    instanceUrl: conn.instanceUrl,
    userId: conn.userInfo && conn.userInfo.id,
    queried: before.totalSize,
    createdId: created.id,
    title: after.Title,
    collection: many.map((r) => r.success),
  }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
