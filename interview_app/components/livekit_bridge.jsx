// Small React pieces the candidate page wraps as Reflex components (interview_app/components/livekit.py).
// They exist only where a hook of @livekit/components-react must run in the browser: its values flow back
// into Reflex state, or change too often to go through the server (level meter, captions, the clock).
// Labels, sentences and layout come from Python; everything else on the page is Reflex.
import React, { useCallback, useEffect, useRef, useState } from "react";
import {
  BarVisualizer, useChat, useConnectionQualityIndicator, useConnectionState, useLocalParticipant, useMediaDevices,
  usePreviewTracks, useTrackToggle, useTrackVolume, useTranscriptions, useVoiceAssistant,
} from "@livekit/components-react";
import { Track } from "livekit-client";

function useLatest(value) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

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
// control bar buttons have no accessible name). Labels from Python; a device error goes back as it is.
export function MicToggle({ muteLabel = "Mute", unmuteLabel = "Unmute", onDeviceError, ...rest }) {
  const cb = useLatest(onDeviceError);
  const { buttonProps, enabled } = useTrackToggle({
    source: Track.Source.Microphone,
    onDeviceError: (error) => cb.current?.(error),
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

// Before joining, the error callbacks below get the browser's error (its name picks the sentence, in Python).
function useErrorCallback(onError) {
  const cb = useLatest(onError);
  return useCallback((error) => cb.current?.(error), []);  // stable: usePreviewTracks restarts when it changes
}

// Before joining: the microphones the browser lists (useMediaDevices), as a native <select>; the page shows
// it once the microphone is open, so listing them never asks for permission a second time. Not the library's
// MediaDeviceSelect: its <ul> of role="option" items holding buttons fails axe (aria-required-parent, list,
// nested-interactive), which the candidate pages must pass.
export function MicSelect({ value = "", numberedLabel = "{n}", onPick, ...rest }) {
  const cb = useLatest(onPick);
  const devices = useMediaDevices({ kind: "audioinput" }).filter((d) => d.deviceId);
  const current = devices.some((d) => d.deviceId === value) ? value : (devices[0]?.deviceId ?? "");
  return (
    <select value={current} onChange={(e) => cb.current?.(e.target.value)} {...rest}>
      {devices.map((d, i) => <option key={d.deviceId} value={d.deviceId}>{d.label || numberedLabel.replace("{n}", String(i + 1))}</option>)}
    </select>
  );
}

// useTrackVolume's analyser. Its default range (-100..-80 dB) reads 0.5-0.9 on a quiet room's hiss (pink noise
// at -60 dBFS); with -50..-20 dB, measured in Chromium after its audio processing: noise at -50 dBFS <= 0.05,
// at -40 dBFS <= 0.16, speech at -45..-25 dBFS peaks at 0.40-0.45. The meter shows twice the volume.
const VOLUME = { fftSize: 32, smoothingTimeConstant: 0, minDecibels: -50, maxDecibels: -20 };

// Before joining: opens the chosen microphone (usePreviewTracks) and draws its level (useTrackVolume) as a meter.
// onOpen(deviceId) once the track exists, onHeard(deviceId) the first time the level reaches `threshold`.
export function MicLevel({ deviceId = "", threshold = 20, onOpen, onHeard, onError, ...rest }) {
  const cb = useLatest({ onOpen, onHeard });
  const tracks = usePreviewTracks({ audio: deviceId ? { deviceId } : true, video: false }, useErrorCallback(onError));
  const track = tracks?.[0];
  const level = Math.min(100, Math.round(200 * useTrackVolume(track, VOLUME)));
  const heard = useRef(null);
  const id = () => track?.mediaStreamTrack.getSettings().deviceId ?? "";
  useEffect(() => { if (track) cb.current.onOpen?.(id()); }, [track]);
  useEffect(() => {
    if (track && level >= threshold && heard.current !== track) { heard.current = track; cb.current.onHeard?.(id()); }
  }, [track, level >= threshold]);
  return (
    <div role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={level} data-level={level} {...rest}>
      <div style={{ width: `${level}%` }} />
    </div>
  );
}

// Before joining: the camera's picture (usePreviewTracks), only while the page shows this component.
export function CameraPreview({ onError, ...rest }) {
  const tracks = usePreviewTracks({ audio: false, video: true }, useErrorCallback(onError));
  const video = useRef(null);
  const track = tracks?.[0];
  useEffect(() => {
    if (track && video.current) track.attach(video.current);
    return () => { track?.detach(); };
  }, [track]);
  return <video {...rest} ref={video} autoPlay muted playsInline />;
}
