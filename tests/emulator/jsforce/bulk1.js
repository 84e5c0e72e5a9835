// jsforce 3's Bulk API 1.0 (`conn.bulk`) against the Tandem emulator: a load with a refused record,
// then a query read back through its result chunks. Trust comes from NODE_EXTRA_CA_CERTS.
const jsforce = require("jsforce");

async function main() {
  const [loginUrl, username, password, clientId, clientSecret] = process.argv.slice(2);
  const conn = new jsforce.Connection({ loginUrl, version: "62.0", oauth2: { loginUrl, clientId, clientSecret } });
  await conn.login(username, password);
  conn.bulk.pollInterval = 50;
  const loaded = await conn.bulk.load("Contact", "insert", [
    { LastName: "JsBulkA", Phone: "+31 20 555 0101" },
    { LastName: "JsBulkB", Phone: "not a phone" },
  ]);
  const stream = await conn.bulk.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'JsBulk%'");
  const rows = await new Promise((resolve, reject) => {
    const found = [];
    stream.on("record", (row) => found.push(row));
    stream.on("end", () => resolve(found));
    stream.on("error", reject);
  });
  console.log(JSON.stringify({
    loaded: loaded.map((r) => ({ success: r.success, id: r.id || null, errors: r.errors })),
    queried: rows.map((r) => ({ Id: r.Id, LastName: r.LastName })),
  }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
