// PostGraphile 5 serving the benchmark database: the peer the benchmark compares WorkflowGraph against.
// Same database, same row level security: each request's transaction runs as workflowgraph_app with
// app.current_org_id / app.current_user_id set transaction-locally (PostGraphile's pgSettings), taken from the
// same HS256 JWT the WorkflowGraph service accepts (signature, issuer, audience and expiry checked).
//   WORKFLOWGRAPH_DB   owner connection string (the login PostGraphile connects and introspects with)
//   JWT_SECRET         the HS256 key (UTF-8 bytes of the value, as Auth__SigningKey)
//   PORT               loopback port to listen on
import { createServer } from "node:http";
import jwt from "jsonwebtoken";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { jsonPgSmartTags } from "postgraphile/utils";

const secret = Buffer.from(process.env.JWT_SECRET ?? "", "utf8");
if (secret.length < 32) throw new Error("JWT_SECRET must be at least 32 bytes");

function settingsFor(req) {
  const header = req?.headers?.authorization ?? "";
  const match = /^Bearer (.+)$/.exec(header);
  if (!match) throw new Error("missing bearer token");
  const claims = jwt.verify(match[1], secret, {
    algorithms: ["HS256"], issuer: "workflowgraph", audience: "workflowgraph", clockTolerance: 30,
  });
  return {
    role: "workflowgraph_app",
    "app.current_org_id": String(claims.org_id),
    "app.current_user_id": String(claims.sub),
    statement_timeout: "30s",
    TimeZone: "UTC",
  };
}

// A run's steps and context are read by trace_id through the unique (trace_id, step_number) and (trace_id, key)
// indexes; PostGraphile only sees that neither index covers the whole (trace_id, org_id) foreign key and would
// hide the relations, so they are tagged as indexed (what a PostGraphile user would do).
const indexedRelations = jsonPgSmartTags({
  version: 1,
  config: {
    constraint: {
      workflow_steps_trace_id_org_id_fkey: { tags: { isIndexed: true } },
      workflow_trace_context_trace_id_org_id_fkey: { tags: { isIndexed: true } },
    },
  },
});

const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  plugins: [indexedRelations],
  pgServices: [makePgService({ connectionString: process.env.WORKFLOWGRAPH_DB, schemas: ["public"], poolConfig: { max: 20 } })],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: {
    explain: false,
    context(requestContext) {
      return { pgSettings: settingsFor(requestContext.node?.req) };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => { console.error(e); process.exit(1); });
await serv.addTo(server);
const port = Number(process.env.PORT ?? 5678);
server.listen(port, "127.0.0.1", () => console.log(`postgraphile listening on http://127.0.0.1:${port}/graphql`));
process.on("SIGTERM", () => { server.close(); pgl.release().finally(() => process.exit(0)); });
