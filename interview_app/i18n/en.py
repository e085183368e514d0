"""English: the reference catalogue (every other language has exactly these keys and placeholders)."""

MESSAGES: dict[str, str] = {
    # shell and language
    "page.title": "Your interview",
    "shell.brand": "Interview",
    "shell.footer": "Powered by an open-source AI interview platform",
    "language.label": "Language of the interview",
    "language.hint": "The interviewer speaks this language, and this page is shown in it.",
    # link problems
    "link.loading": "Checking your interview link…",
    "link.unknown.title": "We could not find this interview",
    "link.expired.title": "This interview link has expired",
    "link.revoked.title": "This invitation was withdrawn",
    "link.finished.title": "This interview is finished",
    "link.failed.title": "This interview could not be completed",
    "link.other.title": "This link cannot be used",
    "link.unknown.next": "Check that you copied the whole link: if it came in an email, make sure nothing was cut off at the end.",
    "link.expired.next": "Ask the recruiter for a new invitation link.",
    "link.revoked.next": "The hiring team withdrew this invitation; contact them if you think this is a mistake.",
    "link.finished.next": "Thank you for taking part. There is nothing more to do: the hiring team will be in touch.",
    "link.failed.next": "Contact the hiring team to arrange another interview.",
    "contact.before": "Questions? Contact",
    "contact.after": "and mention the link you received.",
    # welcome and steps
    "welcome.hello": "Hello, {name}",
    "welcome.invite": "{org} invites you to an interview for the role of {role}.",
    "welcome.duration": "About {minutes} minutes, with an AI interviewer",
    "steps.consent": "1 · Consent",
    "steps.devices": "2 · Devices",
    "steps.interview3": "3 · Interview",
    "steps.interview2": "2 · Interview",
    # consent
    "consent.heading": "Before we start",
    "consent.voice": "This interview is conducted by an AI interviewer. Your voice (audio only, no video) and a transcript are "
    "recorded and reviewed by the hiring team. Recordings are kept only as long as the hiring process needs them and then deleted.",
    "consent.video": "This interview is conducted by an AI interviewer. Your audio, your video if you turn your camera on, and a "
    "transcript are recorded and reviewed by the hiring team. Recordings are kept only as long as the hiring process needs them "
    "and then deleted.",
    "consent.text": "This interview is conducted by an AI interviewer in a text chat. Your typed answers and the interviewer's "
    "questions are stored as a transcript and reviewed by the hiring team. Transcripts are kept only as long as the hiring "
    "process needs them and then deleted.",
    "consent.checkbox": "I have read this and agree to be interviewed and recorded.",
    "consent.continue": "Continue",
    # adjustments (accommodations) before the start
    "adjust.open": "Need an adjustment? Ask for more time, a text chat or a human interviewer",
    "adjust.heading": "Ask for an adjustment",
    "adjust.intro": "The hiring team reads your request and answers you. Tick what would help you:",
    "adjust.extra_time": "More time for the interview and for each question",
    "adjust.text": "A text chat instead of speaking",
    "adjust.human": "An interview with a person instead of the AI interviewer",
    "adjust.note_label": "Anything the hiring team should know (optional)",
    "adjust.send": "Send request",
    "adjust.cancel": "Close",
    "adjust.pick_one": "Tick at least one adjustment, then send the request.",
    "adjust.refused": "Your request could not be sent. If you sent one before, the hiring team has it; otherwise contact {support}.",
    "adjust.sent_proceed": "Your request was sent to the hiring team. You can start now, or wait for their answer and come back "
    "to your link: extra time counts only if they grant it before you start.",
    "adjust.sent_wait": "Your request was sent to the hiring team. The interview can start once they have answered: this page "
    "updates by itself, or come back to your link later.",
    "adjust.granted": "The hiring team granted your request. You can start when you are ready.",
    "adjust.granted_time": "The hiring team granted you {percent}% more time: the interview now takes about {minutes} minutes, "
    "and each question's time grows the same way.",
    "adjust.declined": "The hiring team could not grant your request. If you have questions, contact {support}.",
    # device check
    "devices.rejoin": "Welcome back: your interview is still in progress. Check your microphone, then rejoin the same interview.",
    "devices.heading": "Check your microphone",
    "devices.intro": "Say a few words: the bar below should move. Use headphones if you can, and turn on your camera only if you want to.",
    "devices.mic_label": "Microphone",
    "devices.mic_waiting_access": "Waiting for microphone access…",
    "devices.mic_numbered": "Microphone {n}",
    "devices.mic_level": "Microphone level",
    "devices.camera_on": "Show my camera",
    "devices.camera_off": "Turn camera off",
    "devices.speaker": "Play a test sound",
    "devices.mic_ok": "We can hear you. Your microphone works.",
    "devices.mic_waiting": "Waiting to hear you… speak or make a sound.",
    "devices.speaker_tested": "Did you hear the test sound? If not, check your speaker volume.",
    "devices.join": "Join the interview",
    "devices.rejoin_button": "Rejoin the interview",
    "devices.preparing": "Preparing your interview…",
    "devices.choose_text": "I can't use a microphone",
    "devices.text_unavailable": "The text interview is not available for this invitation. Please contact {support}.",
    # device errors (from the browser's error name)
    "device.mic_blocked": "Your browser blocked the microphone. Allow microphone access for this page (the icon in the address bar) "
    "and reload.",
    "device.mic_missing": "No microphone was found. Plug one in, then reload this page.",
    "device.mic_failed": "The microphone could not be opened ({error}). Close other apps that use it, then reload this page.",
    "device.camera_failed": "The camera could not be opened ({error}). You can continue without it.",
    "device.blocked": "Your browser blocked the {device}. Allow it for this page (the icon in the address bar), then rejoin.",
    "device.missing": "No {device} was found. Connect one, then rejoin.",
    "device.failed": "The {device} could not be used ({error}). Close other apps that use it, then rejoin.",
    "device.camera": "camera",
    "device.microphone": "microphone",
    # the room: connection and interviewer
    "room.idle": "Not connected yet.",
    "room.connecting": "Connecting you to the interview room…",
    "room.connected": "You are connected.",
    "room.reconnecting": "Your connection dropped; reconnecting…",
    "room.disconnected": "You are not connected to the interview room.",
    "room.left": "You left the interview room. If that was a mistake, rejoin below while your link is still valid.",
    "room.duplicate": "You joined this interview from another tab or device, so this one was disconnected.",
    "room.dropped": "You were disconnected from the interview room. Rejoin to continue where you left off.",
    "room.error": "We could not connect you to the interview room{detail}. Check your internet connection, then press “Try again”. "
    "If it keeps failing, contact {support}.",
    "room.ended": "The interview has ended. Thank you for your time! You can close this page.",
    "room.agent_lost": "The interviewer was disconnected and could not finish your interview. What you said so far has been kept "
    "for the hiring team, who will contact you about next steps. Questions: {support}.",
    "room.retry": "Try again",
    "room.start_failed": "Something went wrong while preparing your interview. Please try again; if it keeps failing, contact {support}.",
    "agent.joining": "The interviewer is joining…",
    "agent.here": "The interviewer is here.",
    "agent.not_joined": "The interviewer has not joined after {seconds} seconds. Press “Try again”; if it still does not arrive, "
    "contact {support}.",
    "agent.initializing": "The interviewer is getting ready…",
    "agent.listening": "The interviewer is listening",
    "agent.thinking": "The interviewer is thinking…",
    "agent.speaking": "The interviewer is speaking",
    "agent.failed": "The interviewer ran into a problem",
    # start errors (by reason)
    "start.accommodation_pending": "Your request for an adjustment is with the hiring team; you can start once they have answered.",
    "start.unknown": "This interview link is not valid. Check that you copied the whole link.",
    "start.text_mode": "This interview runs as a text chat: open your interview link to continue it there.",
    "start.livekit_not_configured": "Voice interviews are not set up on this server yet. Please contact {support}.",
    "start.livekit_unavailable": "The interview room could not be prepared right now. Please try again in a minute; if it keeps "
    "failing, contact {support}.",
    "start.broken": "This interview is missing its details. Please contact {support}.",
    # the room: controls
    "room.progress_question": "Question {i} of {n}",
    "room.progress_time": "{time} left",
    "room.progress_paused": "Paused: take your time ({time})",
    "room.progress_ended": "The interviewer is closing the interview.",
    "room.poor_connection": "Your connection is weak: the interviewer may hear you with gaps. Move closer to your Wi-Fi or close "
    "other programs that use the network.",
    "room.lost_connection": "Your connection is lost for the moment; it usually comes back by itself within a few seconds.",
    "room.captions_placeholder": "The interviewer's words appear here as captions.",
    "room.start_audio": "Click to hear the interviewer",
    "room.mute": "Mute microphone",
    "room.unmute": "Unmute microphone",
    "room.moment": "Give me a moment",
    "room.leave": "Leave interview",
    "room.leave_title": "Leave the interview?",
    "room.leave_body": "The interviewer waits a short while for you to come back through your link; after that the interview ends "
    "with what you have said so far.",
    "room.leave_cancel": "Stay in the interview",
    "room.leave_confirm": "Leave",
    "room.agent_label": "Interviewer",
    "room.you_label": "You",
    "room.conversation_empty": "The conversation appears here as you speak.",
    "room.conversation_label": "Conversation with the interviewer",
    "room.type_placeholder": "Prefer to type this answer? Write it here and press Enter.",
    "room.send": "Send",
    "room.help": "Speak naturally; the interviewer waits until you finish. Say “could you repeat that?” or “could you rephrase "
    "that?” whenever you need to; the “Give me a moment” button (or saying so) stops the question clock while you think. You can leave at "
    "any time with “Leave interview”.",
    # the text interview
    "text.typing": "The interviewer is typing…",
    "text.question": "Question {i} of {n}",
    "text.time_left": "{time} left",
    "text.progress_label": "Questions covered",
    "text.end": "End interview",
    "text.end_title": "End the interview now?",
    "text.end_body": "Your answers so far are kept and sent to the hiring team. You cannot continue the interview afterwards.",
    "text.end_cancel": "Keep going",
    "text.conversation_label": "Conversation with the interviewer",
    "text.placeholder": "Type your answer…",
    "text.answer_label": "Your answer",
    "text.send": "Send",
    "text.help": "Enter sends, Shift+Enter starts a new line. Answer in your own words, as you would speak. You can ask the "
    "interviewer to repeat or rephrase a question, or how much time is left. Writing “give me a moment” stops the question "
    "clock while you think.",
    "text.finished": "Thank you! Your interview is complete and has been sent to the hiring team. They will be in touch about "
    "next steps. You can close this page.",
    "text.starting": "Preparing your interview…",
    "text.err.gone": "This interview is no longer running here. Reload the page.",
    "text.err.accommodation_pending": "Your request for an adjustment is with the hiring team; you can start once they have "
    "answered. Reload this page once they have.",
    "text.err.taken_over": "This interview continues in another browser tab or window. Close this one and continue there.",
    "text.err.open_elsewhere": "This interview is already open in another browser tab or window. Continue there, or close it and reload "
    "this page after about {seconds} seconds.",
    "text.err.busy": "The interviewer is still writing; send your message when the reply is complete.",
    "text.err.empty": "Type your answer in the box first, then press Send.",
    "text.err.too_long": "Your message is longer than {limit} characters; please shorten it or split it in two.",
    "text.err.llm": "The interviewer could not answer just now. Send your message again in a moment; if it keeps failing, contact "
    "the hiring team.",
    "text.err.failed": "The interviewer could not start. Please try again later or contact the hiring team.",
    "text.err.voice_running": "This interview is already running as a voice interview. Go back to the interview room to continue.",
    "text.err.voice": "This interview is set up as a voice interview. Reload the page and choose how you want to take part.",
    "text.err.incomplete": "This interview is not set up completely. Please contact the hiring team.",
    "text.err.interrupted": "Your interview was interrupted by a problem on our side and could not be continued. What you wrote "
    "so far is saved; the hiring team will contact you about next steps.",
    "text.err.one_moment": "One moment: your interview is being moved to another server. This page tries again by itself.",
    "text.err.elsewhere": "This interview is open on another server connection. Close other tabs with this link, wait a minute, "
    "then reload this page.",
}
