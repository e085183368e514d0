// Small React pieces the candidate page wraps as Reflex components (interview_app/components/livekit.py).
// They exist only where a prop cannot express the behaviour: hooks of @livekit/components-react whose
// values must flow back into Reflex state, the pre-join microphone level meter, and the page-focus
// listeners for integrity signals. Everything else on the page is Reflex.
import React, { useEffect, useRef, useState } from "react";
import {
  BarVisualizer, useChat, useConnectionQualityIndicator, useConnectionState, useLocalParticipant, useTrackToggle, useTranscriptions,
  useVoiceAssistant,
} from "@livekit/components-react";
import { Track } from "livekit-client";

function useLatest(value) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

const meterTrack = {
  position: "relative",
  height: "12px",
  width: "100%",
  borderRadius: "999px",
  background: "var(--gray-a4, #e5e7eb)",
  overflow: "hidden",
};

// Inside LiveKitRoom: the agent's audio visualizer, plus its state, presence and the room's
// connection state reported as plain strings/booleans to Reflex.
export function AgentVisualizer({ onAgentState, onAgentPresence, onConnectionState, barCount = 7, ...rest }) {
  const { state, audioTrack, agent } = useVoiceAssistant();
  const connection = useConnectionState();
  const cbState = useLatest(onAgentState);
  const cbPresence = useLatest(onAgentPresence);
  const cbConnection = useLatest(onConnectionState);
  const present = agent !== undefined;
  useEffect(() => { cbState.current?.(String(state)); }, [state]);
  useEffect(() => { cbPresence.current?.(present); }, [present]);
  useEffect(() => { cbConnection.current?.(String(connection)); }, [connection]);
  return (
    <div data-agent-state={state} data-agent-present={present ? "yes" : "no"} {...rest}>
      <BarVisualizer state={state} trackRef={audioTrack} barCount={barCount} options={{ minHeight: 12 }}
        style={{ height: "120px", width: "100%" }} />
    </div>
  );
}

// Inside LiveKitRoom: live captions of what the agent says (text streams on lk.transcription,
// falling back to legacy track transcriptions).
export function AgentCaptions({ placeholder = "", ...rest }) {
  const { agent, agentTranscriptions } = useVoiceAssistant();
  const streams = useTranscriptions(agent ? { participantIdentities: [agent.identity] } : undefined);
  let text = "";
  const own = streams.filter((s) => !agent || s.participantInfo?.identity === agent.identity);
  if (own.length > 0) {
    text = own[own.length - 1].text;
  } else if (agentTranscriptions && agentTranscriptions.length > 0) {
    text = agentTranscriptions[agentTranscriptions.length - 1].text;
  }
  return (
    <div aria-live="polite" data-has-caption={text ? "yes" : "no"} {...rest}>
      {text || placeholder}
    </div>
  );
}

// Inside LiveKitRoom: the conversation so far, both sides, live, from the lk.transcription text
// streams the interviewer publishes (its own words, and the candidate's recognised speech, which
// carries the candidate's microphone track in lk.transcribed_track_id), plus what the candidate typed.
// With `typing` on, a box to type one answer instead of speaking it: sent on lk.chat, where the
// interviewer (agent/worker.py typed_answer) takes it as the candidate's turn. Every label comes from Python.
export function Conversation({ agentLabel = "Interviewer", youLabel = "You", emptyText = "", logLabel = "", typing = false,
                               typePlaceholder = "", sendLabel = "Send", maxLength = 4000, ...rest }) {
  const { localParticipant } = useLocalParticipant();
  const streams = useTranscriptions();
  const { send, chatMessages, isSending } = useChat();
  const [draft, setDraft] = useState("");
  const boxRef = useRef(null);
  const mine = new Set(Array.from(localParticipant?.trackPublications?.values?.() ?? []).map((p) => p.trackSid));
  const spoken = streams
    .filter((s) => (s.text || "").trim() !== "")
    .map((s) => {
      const track = s.streamInfo?.attributes?.["lk.transcribed_track_id"];
      const you = s.participantInfo?.identity === localParticipant?.identity || (track !== undefined && mine.has(track));
      return { id: s.streamInfo?.id, at: s.streamInfo?.timestamp ?? 0, text: s.text, you, typed: false };
    });
  const typed = chatMessages
    .filter((m) => m.from?.identity === localParticipant?.identity)
    .map((m) => ({ id: `typed-${m.id}`, at: m.timestamp ?? 0, text: m.message, you: true, typed: true }));
  const turns = spoken.concat(typed).sort((a, b) => a.at - b.at);
  const last = turns.length > 0 ? turns[turns.length - 1].text : "";
  useEffect(() => {
    const box = boxRef.current;
    // Follow the conversation unless the candidate scrolled up to read.
    if (box && box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
  }, [turns.length, last]);
  const submit = async (e) => {
    e.preventDefault();
    const value = draft.trim();
    if (!value || isSending) return;
    try { await send(value.slice(0, maxLength)); setDraft(""); } catch (err) { /* the box keeps the text to retry */ }
  };
  return (
    <div {...rest}>
      <div ref={boxRef} role="log" aria-live="polite" aria-label={logLabel || undefined} tabIndex={0} data-turns={turns.length}
        id="conversation-log"
        style={{ maxHeight: "260px", overflowY: "auto", padding: "4px 2px" }}>
        {turns.length === 0 ? <p style={{ opacity: 0.7, margin: 0 }}>{emptyText}</p> : null}
        {turns.map((t) => (
          <div key={t.id} className="conversation-turn" data-speaker={t.you ? "candidate" : "interviewer"} data-typed={t.typed ? "yes" : "no"}
            style={{ display: "flex", flexDirection: "column", alignItems: t.you ? "flex-end" : "flex-start", margin: "6px 0" }}>
            <span style={{ fontSize: "12px", fontWeight: 600, opacity: 0.7 }}>{t.you ? youLabel : agentLabel}</span>
            <span style={{ maxWidth: "85%", padding: "6px 10px", borderRadius: "10px", lineHeight: 1.45, whiteSpace: "pre-wrap",
              background: t.you ? "var(--accent-a3, #eef2ff)" : "var(--gray-a3, #f3f4f6)" }}>{t.text}</span>
          </div>
        ))}
      </div>
      {typing ? (
        <form onSubmit={submit} style={{ display: "flex", gap: "8px", width: "100%", marginTop: "8px" }} id="typed-answer">
          <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder={typePlaceholder} maxLength={maxLength}
            aria-label={typePlaceholder} id="typed-answer-input"
            style={{ flex: 1, minWidth: 0, padding: "8px 10px", borderRadius: "8px", border: "1px solid rgba(255, 255, 255, 0.3)",
              font: "inherit", color: "inherit", background: "rgba(255, 255, 255, 0.08)" }} />
          <button type="submit" disabled={isSending || !draft.trim()} id="typed-answer-send"
            style={{ padding: "8px 14px", borderRadius: "8px", border: "none", font: "inherit", fontWeight: 500, cursor: "pointer",
              background: "var(--accent-9, #4f46e5)", color: "var(--accent-contrast, #fff)", opacity: isSending || !draft.trim() ? 0.5 : 1 }}>
            {sendLabel}
          </button>
        </form>
      ) : null}
    </div>
  );
}

// Inside LiveKitRoom: mute / unmute the microphone, a button whose text says what it does (LiveKit's
// control bar buttons have no accessible name). Labels from Python; a device error goes back as its message.
export function MicToggle({ muteLabel = "Mute", unmuteLabel = "Unmute", onDeviceError, ...rest }) {
  const cb = useLatest(onDeviceError);
  const { buttonProps, enabled } = useTrackToggle({
    source: Track.Source.Microphone,
    onDeviceError: (error) => cb.current?.(String(error?.message ?? error ?? "")),
  });
  return (
    <button {...buttonProps} className="lk-button" aria-pressed={!enabled} data-mic={enabled ? "on" : "off"} {...rest}>
      {enabled ? muteLabel : unmuteLabel}
    </button>
  );
}

// Inside LiveKitRoom: a hint when the candidate's own connection is weak, from LiveKit's connection
// quality measurements (useConnectionQualityIndicator). Sentences from Python; nothing shown while it is fine.
export function ConnectionHint({ poorText = "", lostText = "", ...rest }) {
  const { localParticipant } = useLocalParticipant();
  const { quality } = useConnectionQualityIndicator({ participant: localParticipant });
  const text = quality === "poor" ? poorText : quality === "lost" ? lostText : "";
  return <div role="status" data-quality={String(quality)} {...rest}>{text}</div>;
}

// Inside LiveKitRoom: "Give me a moment" — asks the interviewer (RPC interview.pause, agent/worker.py)
// to stop the question clock and hold its reminders for a while; speaking again ends the pause.
export function MomentButton({ label = "Give me a moment", ...rest }) {
  const { agent } = useVoiceAssistant();
  const { localParticipant } = useLocalParticipant();
  const [busy, setBusy] = useState(false);
  const ask = async () => {
    if (!agent || !localParticipant || busy) return;
    setBusy(true);
    try {
      await localParticipant.performRpc({ destinationIdentity: agent.identity, method: "interview.pause", payload: "" });
    } catch (err) {
      /* the interviewer is gone or closing: the page says so elsewhere */
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="lk-button" onClick={ask} disabled={!agent || busy} {...rest}>{label}</button>
  );
}

// Inside LiveKitRoom: "Question i of n" and the time left, from the interviewer's participant
// attributes (agent/progress.py room_attributes). Templates come from Python: {i} {n} and {time}.
export function InterviewProgressLine({ questionTemplate = "Question {i} of {n}", timeTemplate = "{time} left",
                                        pausedTemplate = "", endedText = "", ...rest }) {
  const { agentAttributes } = useVoiceAssistant();
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  const n = Number(agentAttributes?.["interview.questions"] ?? 0);
  const i = Math.min(Number(agentAttributes?.["interview.question"] ?? 0), n);
  const endsAt = Number(agentAttributes?.["interview.ends_at"] ?? 0);
  const ended = agentAttributes?.["interview.ended"] === "1";
  const pausedUntil = Number(agentAttributes?.["interview.paused_until"] ?? 0);
  if (!n) return <div data-progress="none" {...rest} />;
  const parts = [];
  if (ended) parts.push(endedText);
  else parts.push(questionTemplate.replace("{i}", String(Math.max(1, i))).replace("{n}", String(n)));
  if (!ended && endsAt > 0) {
    const left = Math.max(0, Math.round((endsAt - now) / 1000));
    const time = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    parts.push(timeTemplate.replace("{time}", time));
  }
  const mmss = (ms) => { const t = Math.max(0, Math.round(ms / 1000)); return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`; };
  const paused = !ended && pausedUntil > now;
  if (paused && pausedTemplate) parts.push(pausedTemplate.replace("{time}", mmss(pausedUntil - now)));
  return <div data-progress={ended ? "ended" : `${i}/${n}`} data-paused={paused ? "yes" : "no"} {...rest}>{parts.filter(Boolean).join(" · ")}</div>;
}

// Before joining: microphone choice with a live level meter, optional camera preview, speaker test.
// Every label and sentence comes from Python (the candidate's language); {error} is the browser's error name.
export function DeviceCheck({ onMicReady, onMicDevice, onCameraChange, onSpeakerTest, onDeviceError,
                              micLabel = "", cameraLabel = "", cameraOffLabel = "", speakerLabel = "", playingLabel = "",
                              waitingLabel = "", numberedLabel = "{n}", levelLabel = "", blockedText = "", missingText = "",
                              failedText = "{error}", cameraFailedText = "{error}", ...rest }) {
  const [mics, setMics] = useState([]);
  const [micId, setMicId] = useState("");
  const [level, setLevel] = useState(0);
  const [camera, setCamera] = useState(false);
  const [playing, setPlaying] = useState(false);
  const videoRef = useRef(null);
  const heardRef = useRef(false);
  const cb = useLatest({ onMicReady, onMicDevice, onCameraChange, onSpeakerTest, onDeviceError });

  // Microphone stream + analyser for the chosen device.
  useEffect(() => {
    let stream = null, ctx = null, raf = 0, cancelled = false, lastPaint = 0;
    const audio = micId ? { deviceId: { exact: micId } } : true;
    navigator.mediaDevices?.getUserMedia({ audio }).then(async (s) => {
      if (cancelled) { s.getTracks().forEach((t) => t.stop()); return; }
      stream = s;
      const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
      setMics(devices.map((d, i) => ({ id: d.deviceId, label: d.label || numberedLabel.replace("{n}", String(i + 1)) })));
      const active = s.getAudioTracks()[0]?.getSettings().deviceId || "";
      if (!micId && active) { setMicId(active); }
      cb.current.onMicDevice?.(active);
      ctx = new (window.AudioContext || window.webkitAudioContext)();
      await ctx.resume().catch(() => {});
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      ctx.createMediaStreamSource(s).connect(analyser);
      const data = new Uint8Array(analyser.fftSize);
      const tick = (now) => {
        analyser.getByteTimeDomainData(data);
        let sum = 0;
        for (let i = 0; i < data.length; i++) { const v = (data[i] - 128) / 128; sum += v * v; }
        const rms = Math.sqrt(sum / data.length);
        const value = Math.min(1, rms * 4);
        if (now - lastPaint > 60) { setLevel(value); lastPaint = now; }
        if (value > 0.08 && !heardRef.current) { heardRef.current = true; cb.current.onMicReady?.(active); }
        raf = requestAnimationFrame(tick);
      };
      raf = requestAnimationFrame(tick);
    }).catch((err) => {
      const name = err && err.name;
      const message = name === "NotAllowedError" ? blockedText
        : name === "NotFoundError" ? missingText : failedText.replace("{error}", String(name || err));
      cb.current.onDeviceError?.(message);
    });
    return () => {
      cancelled = true;
      cancelAnimationFrame(raf);
      stream?.getTracks().forEach((t) => t.stop());
      ctx?.close().catch(() => {});
    };
  }, [micId]);

  // Optional camera preview.
  useEffect(() => {
    if (!camera) { return undefined; }
    let stream = null, cancelled = false;
    navigator.mediaDevices?.getUserMedia({ video: true }).then((s) => {
      if (cancelled) { s.getTracks().forEach((t) => t.stop()); return; }
      stream = s;
      if (videoRef.current) { videoRef.current.srcObject = s; }
    }).catch((err) => {
      setCamera(false);
      cb.current.onCameraChange?.(false);
      cb.current.onDeviceError?.(cameraFailedText.replace("{error}", String((err && err.name) || err)));
    });
    return () => { cancelled = true; stream?.getTracks().forEach((t) => t.stop()); };
  }, [camera]);

  const playTone = () => {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 660;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 1.2);
    osc.connect(gain).connect(ctx.destination);
    setPlaying(true);
    osc.start();
    osc.stop(ctx.currentTime + 1.25);
    osc.onended = () => { setPlaying(false); ctx.close().catch(() => {}); cb.current.onSpeakerTest?.(); };
  };

  const pct = Math.round(level * 100);
  const label = { fontSize: "14px", fontWeight: 500, color: "var(--gray-12, #111)" };
  const button = {
    padding: "6px 12px", borderRadius: "var(--radius-3, 6px)", border: "1px solid var(--gray-a7, #ccc)",
    background: "var(--color-surface, #fff)", cursor: "pointer", fontSize: "14px",
  };
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: "16px", width: "100%" }} {...rest}>
      <label style={{ display: "flex", flexDirection: "column", gap: "6px" }}>
        <span style={label}>{micLabel}</span>
        <select id="mic-select" value={micId} onChange={(e) => { heardRef.current = false; setMicId(e.target.value); }}
          style={{ ...button, cursor: "default" }}>
          {mics.length === 0 ? <option value="">{waitingLabel}</option> : null}
          {mics.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
        </select>
      </label>
      <div id="mic-level" role="meter" aria-label={levelLabel} aria-valuemin={0} aria-valuemax={100}
        aria-valuenow={pct} data-level={pct} style={meterTrack}>
        <div style={{ position: "absolute", inset: 0, width: `${pct}%`, background: "var(--accent-9, #3e63dd)",
          transition: "width 60ms linear" }} />
      </div>
      <div style={{ display: "flex", gap: "12px", flexWrap: "wrap", alignItems: "center" }}>
        <button type="button" id="camera-toggle" style={button}
          onClick={() => { const next = !camera; setCamera(next); cb.current.onCameraChange?.(next); }}>
          {camera ? cameraOffLabel : cameraLabel}
        </button>
        <button type="button" id="speaker-test" style={button} disabled={playing} onClick={playTone}>
          {playing ? playingLabel : speakerLabel}
        </button>
      </div>
      {camera ? (
        <video id="camera-preview" ref={videoRef} autoPlay muted playsInline
          style={{ width: "100%", maxHeight: "240px", borderRadius: "var(--radius-4, 8px)", background: "#000", objectFit: "cover" }} />
      ) : null}
    </div>
  );
}

// Reports how often and how long the page was hidden or the window lost focus (for human review).
export function IntegrityWatcher({ onSignal }) {
  const cb = useLatest(onSignal);
  useEffect(() => {
    let hiddenAt = null, blurredAt = null;
    const report = (kind, since) => cb.current?.(kind, Math.max(0, Math.round(Date.now() - since)));
    const onVisibility = () => {
      if (document.visibilityState === "hidden") { hiddenAt = hiddenAt ?? Date.now(); }
      else if (hiddenAt !== null) { report("tab_hidden", hiddenAt); hiddenAt = null; }
    };
    const onBlur = () => { blurredAt = blurredAt ?? Date.now(); };
    const onFocus = () => { if (blurredAt !== null) { report("window_blur", blurredAt); blurredAt = null; } };
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("blur", onBlur);
    window.addEventListener("focus", onFocus);
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("blur", onBlur);
      window.removeEventListener("focus", onFocus);
    };
  }, []);
  return null;
}
