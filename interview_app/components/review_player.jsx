// The review page's player (interview_app/components/review.py): an <audio> or <video> with a `seek` prop.
// Each new `seek.n` moves it to `seek.at` seconds, and plays when `seek.play` — click-to-seek from the
// transcript and the resume after a renewed link, set from Python state instead of rx.call_script.
// A file of its own so the admin page does not load LiveKit's libraries (livekit_bridge.jsx imports them).
import React, { useEffect, useRef } from "react";

function seekable(Tag) {
  return function SeekablePlayer({ seek, ...rest }) {
    const player = useRef(null);
    const done = useRef(seek?.n ?? 0); // a request made before this player existed is not replayed
    useEffect(() => {
      const p = player.current;
      if (!p || !seek || seek.n === done.current) return;
      done.current = seek.n;
      p.currentTime = seek.at;
      if (seek.play) p.play()?.catch(() => {}); // the browser may refuse to play without a click: the position stays
    }, [seek?.n]);
    return <Tag {...rest} ref={player} />;
  };
}

export const SeekableAudio = seekable("audio");
export const SeekableVideo = seekable("video");
