// Baseline for bench P2: POST /api/interview/start on the seed's original stack
// (Express + livekit-server-sdk + pg), doing the work interview_app/services/start.py does
// for a first start: lock the invite row by token hash, read candidate and template, create
// the room with the plan as metadata, dispatch the agent, record the events, move the
// interview to in_progress, mint the same candidate token. Rejoins check the room exists.
//
// Env: PORT, WORKERS, DATABASE_URL (postgres://...), LIVEKIT_URL, LIVEKIT_API_KEY,
// LIVEKIT_API_SECRET, AGENT_NAME, ORG_NAME.
"use strict";

const cluster = require("node:cluster");
const crypto = require("node:crypto");

const WORKERS = Number(process.env.WORKERS || 1);

if (cluster.isPrimary && WORKERS > 1) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on("exit", (worker, code) => {
    if (code !== 0) console.error(`worker ${worker.process.pid} exited with ${code}`);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.kill(sig);
      process.exit(0);
    });
  }
} else {
  serve();
}

function serve() {
  const express = require("express");
  const { Pool } = require("pg");
  const { AccessToken, AgentDispatchClient, RoomServiceClient, TrackSource } = require("livekit-server-sdk");

  const lkUrl = process.env.LIVEKIT_URL;
  const apiKey = process.env.LIVEKIT_API_KEY;
  const apiSecret = process.env.LIVEKIT_API_SECRET;
  const agentName = process.env.AGENT_NAME || "interviewer";
  const orgName = process.env.ORG_NAME || "Acme Hiring";
  const httpUrl = lkUrl.replace(/^ws/, "http");
  const rooms = new RoomServiceClient(httpUrl, apiKey, apiSecret);
  const dispatch = new AgentDispatchClient(httpUrl, apiKey, apiSecret);
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,200}$/;

  const app = express();
  app.use(express.json());

  function fail(res, code, error, detail) {
    res.status(code).json({ error, detail });
  }

  app.post("/api/interview/start", async (req, res) => {
    const raw = req.body && req.body.invite_token;
    if (typeof raw !== "string" || !TOKEN_SHAPE.test(raw)) return fail(res, 422, "malformed", "invite_token is required");
    const hash = crypto.createHash("sha256").update(raw, "utf8").digest("hex");
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const found = await client.query("SELECT * FROM interview WHERE invite_token_hash = $1 FOR UPDATE", [hash]);
      const interview = found.rows[0];
      if (!interview) {
        await client.query("ROLLBACK");
        return fail(res, 404, "unknown", "This interview link is not valid.");
      }
      const now = new Date();
      if (!["invited", "in_progress"].includes(interview.status) || (interview.status === "invited" && interview.invite_expires_at < now)) {
        await client.query("ROLLBACK");
        return fail(res, 410, "finished", "This interview link can no longer be used.");
      }
      const candidate = (await client.query("SELECT * FROM candidate WHERE id = $1", [interview.candidate_id])).rows[0];
      const template = (await client.query("SELECT * FROM interview_template WHERE id = $1", [interview.template_id])).rows[0];
      const roomName = interview.room_name || `interview-${interview.id}`;
      const plan = JSON.stringify({
        interview_id: interview.id,
        candidate_name: candidate.name,
        role_title: template.title,
        job_description: template.job_description,
        language: template.language,
        duration_limit_seconds: Math.max(60, template.duration_limit_minutes * 60),
        persona: template.persona,
        greeting: template.greeting,
        org_name: orgName,
        questions: template.questions,
        mode: "voice",
      });
      const rejoined = interview.status === "in_progress";
      let dispatchId = interview.dispatch_id;
      if (!dispatchId) {
        await rooms.createRoom({ name: roomName, metadata: plan, emptyTimeout: 600, departureTimeout: 120, maxParticipants: 4 });
        dispatchId = (await dispatch.createDispatch(roomName, agentName, { metadata: plan })).id;
        await client.query("INSERT INTO interview_event (interview_id, kind, actor, detail, at) VALUES ($1, $2, $3, $4, $5)", [
          interview.id, "agent_dispatched", "system", JSON.stringify({ room: roomName, dispatch_id: dispatchId, agent_name: agentName }), now,
        ]);
      } else if ((await rooms.listRooms([roomName])).length === 0) {
        await rooms.createRoom({ name: roomName, metadata: plan, emptyTimeout: 600, departureTimeout: 120, maxParticipants: 4 });
        dispatchId = (await dispatch.createDispatch(roomName, agentName, { metadata: plan })).id;
      }
      if (rejoined) {
        await client.query("INSERT INTO interview_event (interview_id, kind, actor, detail, at) VALUES ($1, $2, $3, $4, $5)", [
          interview.id, "candidate_rejoined", "candidate", JSON.stringify({ room: roomName }), now,
        ]);
        await client.query("UPDATE interview SET room_name = $2, dispatch_id = $3 WHERE id = $1", [interview.id, roomName, dispatchId]);
      } else {
        await client.query(
          "UPDATE interview SET status = 'in_progress', room_name = $2, dispatch_id = $3, started_at = COALESCE(started_at, $4), updated_at = $4 WHERE id = $1",
          [interview.id, roomName, dispatchId, now],
        );
        await client.query("INSERT INTO interview_event (interview_id, kind, actor, detail, at) VALUES ($1, $2, $3, $4, $5)", [
          interview.id, "status_changed", "candidate", JSON.stringify({ from: interview.status, to: "in_progress", reason: "", room: roomName }), now,
        ]);
      }
      const ttl = 900;
      const at = new AccessToken(apiKey, apiSecret, { identity: `candidate-${interview.id}`, name: candidate.name || "Candidate", ttl });
      at.addGrant({ roomJoin: true, room: roomName, canPublish: true, canPublishSources: [TrackSource.MICROPHONE, TrackSource.CAMERA], canSubscribe: true, canPublishData: true });
      const token = await at.toJwt();
      await client.query("COMMIT");
      const expires = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000);
      res.json({ room_name: roomName, token, server_url: lkUrl, expires_at: expires.toISOString().replace(".000Z", "+00:00") });
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      console.error(err);
      fail(res, 503, "livekit_unavailable", "The interview room could not be prepared right now.");
    } finally {
      client.release();
    }
  });

  app.get("/healthz", (req, res) => res.json({ status: "ok" }));
  const port = Number(process.env.PORT);
  app.listen(port, "127.0.0.1");
}
