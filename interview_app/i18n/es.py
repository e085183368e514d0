"""es: the candidate pages (keys and placeholders as in en.py)."""

MESSAGES: dict[str, str] = {
    # shell and language
    "page.title": "Su entrevista",
    "shell.brand": "Entrevista",
    "shell.footer": "Con la tecnología de una plataforma de entrevistas con IA de código abierto",
    "language.label": "Idioma de la entrevista",
    "language.hint": "El entrevistador habla este idioma, y esta página se muestra en él.",
    # link problems
    "link.loading": "Comprobando el enlace de su entrevista…",
    "link.unknown.title": "No encontramos esta entrevista",
    "link.expired.title": "El enlace de esta entrevista ha caducado",
    "link.revoked.title": "Esta invitación fue retirada",
    "link.finished.title": "Esta entrevista ha finalizado",
    "link.failed.title": "No se pudo completar esta entrevista",
    "link.other.title": "Este enlace no se puede usar",
    "link.unknown.next": "Compruebe que copió el enlace completo: si lo recibió por correo electrónico, asegúrese de que no se haya "
    "cortado nada al final.",
    "link.expired.next": "Solicite a la persona encargada de la selección un nuevo enlace de invitación.",
    "link.revoked.next": "El equipo de selección retiró esta invitación; si cree que se trata de un error, póngase en contacto con él.",
    "link.finished.next": "Gracias por participar. No necesita hacer nada más: el equipo de selección se pondrá en contacto con usted.",
    "link.failed.next": "Póngase en contacto con el equipo de selección para programar otra entrevista.",
    "contact.before": "¿Tiene preguntas? Escriba a",
    "contact.after": "e indique el enlace que recibió.",
    # welcome and steps
    "welcome.hello": "Hola, {name}",
    "welcome.invite": "{org} le invita a una entrevista para el puesto de {role}.",
    "welcome.duration": "Unos {minutes} minutos, con un entrevistador de IA",
    "steps.consent": "1 · Consentimiento",
    "steps.devices": "2 · Dispositivos",
    "steps.interview3": "3 · Entrevista",
    "steps.interview2": "2 · Entrevista",
    # consent
    "consent.heading": "Antes de empezar",
    "consent.voice": "Esta entrevista la realiza un entrevistador de IA. Se graban su voz (solo audio, sin video) y una transcripción, "
    "que revisa el equipo de selección. Las grabaciones se conservan solo mientras el proceso de selección las necesite y después se "
    "eliminan.",
    "consent.video": "Esta entrevista la realiza un entrevistador de IA. Se graban su audio, su video si enciende la cámara y una "
    "transcripción, que revisa el equipo de selección. Las grabaciones se conservan solo mientras el proceso de selección las necesite y "
    "después se eliminan.",
    "consent.text": "Esta entrevista la realiza un entrevistador de IA en un chat de texto. Sus respuestas escritas y las preguntas del "
    "entrevistador se guardan como transcripción, que revisa el equipo de selección. Las transcripciones se conservan solo mientras el "
    "proceso de selección las necesite y después se eliminan.",
    "consent.checkbox": "He leído esta información y doy mi consentimiento para la entrevista y su grabación.",
    "consent.continue": "Continuar",
    # adjustments (accommodations) before the start
    "adjust.open": "¿Necesita una adaptación? Solicite más tiempo, un chat de texto o una entrevista con una persona",
    "adjust.heading": "Solicitar una adaptación",
    "adjust.intro": "El equipo de selección lee su solicitud y le responde. Marque lo que le sería útil:",
    "adjust.extra_time": "Más tiempo para la entrevista y para cada pregunta",
    "adjust.text": "Un chat de texto en lugar de hablar",
    "adjust.human": "Una entrevista con una persona en lugar del entrevistador de IA",
    "adjust.note_label": "Información que el equipo de selección debería conocer (opcional)",
    "adjust.send": "Enviar solicitud",
    "adjust.cancel": "Cerrar",
    "adjust.pick_one": "Marque al menos una adaptación y luego envíe la solicitud.",
    "adjust.refused": "No se pudo enviar su solicitud. Si ya había enviado una, el equipo de selección la tiene; de lo contrario, "
    "póngase en contacto con {support}.",
    "adjust.sent_proceed": "Su solicitud se envió al equipo de selección. Puede empezar ahora, o esperar su respuesta y volver a su "
    "enlace: el tiempo adicional solo cuenta si se lo conceden antes de que empiece.",
    "adjust.sent_wait": "Su solicitud se envió al equipo de selección. La entrevista podrá empezar cuando le hayan respondido: esta "
    "página se actualiza sola, o puede volver a su enlace más tarde.",
    "adjust.granted": "El equipo de selección aceptó su solicitud. Puede empezar cuando lo desee.",
    "adjust.granted_time": "El equipo de selección le concedió un {percent} % más de tiempo: la entrevista dura ahora unos {minutes} "
    "minutos, y el tiempo de cada pregunta aumenta en la misma proporción.",
    "adjust.declined": "El equipo de selección no pudo aceptar su solicitud. Si tiene preguntas, póngase en contacto con {support}.",
    # device check
    "devices.rejoin": "Hola de nuevo: su entrevista sigue en curso. Compruebe su micrófono y vuelva a unirse a la misma entrevista.",
    "devices.heading": "Compruebe su micrófono",
    "devices.intro": "Diga unas palabras: la barra de abajo debería moverse. Si puede, use auriculares, y encienda la cámara solo si lo "
    "desea.",
    "devices.mic_label": "Micrófono",
    "devices.mic_waiting_access": "Esperando acceso al micrófono…",
    "devices.mic_numbered": "Micrófono {n}",
    "devices.mic_level": "Nivel del micrófono",
    "devices.camera_on": "Mostrar mi cámara",
    "devices.camera_off": "Apagar la cámara",
    "devices.speaker": "Reproducir un sonido de prueba",
    "devices.mic_ok": "Le escuchamos. Su micrófono funciona.",
    "devices.mic_waiting": "Esperando a escucharle… hable o haga algún sonido.",
    "devices.speaker_tested": "¿Escuchó el sonido de prueba? Si no, compruebe el volumen de sus altavoces.",
    "devices.join": "Unirse a la entrevista",
    "devices.rejoin_button": "Volver a la entrevista",
    "devices.preparing": "Preparando su entrevista…",
    "devices.choose_text": "No puedo usar un micrófono",
    "devices.text_unavailable": "La entrevista por texto no está disponible para esta invitación. Por favor, póngase en contacto con "
    "{support}.",
    # device errors (from the browser's error name)
    "device.mic_blocked": "Su navegador bloqueó el micrófono. Permita el acceso al micrófono para esta página (el icono de la barra de "
    "direcciones) y vuelva a cargarla.",
    "device.mic_missing": "No se encontró ningún micrófono. Conecte uno y vuelva a cargar esta página.",
    "device.mic_failed": "No se pudo abrir el micrófono ({error}). Cierre las demás aplicaciones que lo estén usando y vuelva a cargar "
    "esta página.",
    "device.camera_failed": "No se pudo abrir la cámara ({error}). Puede continuar sin ella.",
    "device.blocked": "Su navegador bloqueó {device}. Permita el acceso para esta página (el icono de la barra de direcciones) y vuelva "
    "a unirse.",
    "device.missing": "No se detectó {device}. Conecte el dispositivo y vuelva a unirse.",
    "device.failed": "No se pudo usar {device} ({error}). Cierre las demás aplicaciones que usen el dispositivo y vuelva a unirse.",
    "device.camera": "la cámara",
    "device.microphone": "el micrófono",
    # the room: connection and interviewer
    "room.idle": "Aún sin conexión.",
    "room.connecting": "Conectando con la sala de la entrevista…",
    "room.connected": "Conexión establecida.",
    "room.reconnecting": "Se perdió la conexión; reconectando…",
    "room.disconnected": "No tiene conexión con la sala de la entrevista.",
    "room.left": "Salió de la sala de la entrevista. Si fue un error, vuelva a unirse más abajo mientras su enlace siga siendo válido.",
    "room.duplicate": "Se unió a esta entrevista desde otra pestaña o dispositivo, por lo que esta se desconectó.",
    "room.dropped": "Se perdió su conexión con la sala de la entrevista. Vuelva a unirse para continuar donde lo dejó.",
    "room.error": "No pudimos establecer la conexión con la sala de la entrevista{detail}. Compruebe su conexión a internet y presione "
    "“Reintentar”. Si el problema persiste, póngase en contacto con {support}.",
    "room.ended": "La entrevista ha terminado. ¡Gracias por su tiempo! Ya puede cerrar esta página.",
    "room.agent_lost": "El entrevistador se desconectó y no pudo terminar su entrevista. Lo que ha dicho hasta ahora se guardó para el "
    "equipo de selección, que se pondrá en contacto con usted sobre los próximos pasos. Si tiene preguntas: {support}.",
    "room.retry": "Reintentar",
    "room.start_failed": "Algo salió mal al preparar su entrevista. Por favor, vuelva a intentarlo; si el problema persiste, póngase en "
    "contacto con {support}.",
    "agent.joining": "El entrevistador se está uniendo…",
    "agent.here": "El entrevistador ya está aquí.",
    "agent.not_joined": "El entrevistador no se ha unido después de {seconds} segundos. Presione “Reintentar”; si sigue sin llegar, "
    "póngase en contacto con {support}.",
    "agent.initializing": "El entrevistador se está preparando…",
    "agent.listening": "El entrevistador está escuchando",
    "agent.thinking": "El entrevistador está pensando…",
    "agent.speaking": "El entrevistador está hablando",
    "agent.failed": "El entrevistador tuvo un problema",
    # start errors (by reason)
    "start.accommodation_pending": "Su solicitud de adaptación está en manos del equipo de selección; podrá empezar cuando le hayan "
    "respondido.",
    "start.unknown": "Este enlace de entrevista no es válido. Compruebe que copió el enlace completo.",
    "start.text_mode": "Esta entrevista se realiza por chat de texto: abra el enlace de su entrevista para continuarla allí.",
    "start.livekit_not_configured": "Las entrevistas por voz aún no están configuradas en este servidor. Por favor, póngase en contacto "
    "con {support}.",
    "start.livekit_unavailable": "No se pudo preparar la sala de la entrevista en este momento. Por favor, vuelva a intentarlo en un "
    "minuto; si el problema persiste, póngase en contacto con {support}.",
    "start.broken": "Faltan los datos de esta entrevista. Por favor, póngase en contacto con {support}.",
    # the room: controls
    "room.progress_question": "Pregunta {i} de {n}",
    "room.progress_time": "Tiempo restante: {time}",
    "room.progress_paused": "En pausa: tómese su tiempo ({time})",
    "room.progress_ended": "El entrevistador está cerrando la entrevista.",
    "room.poor_connection": "Su conexión es débil: es posible que el entrevistador le escuche con cortes. Acérquese a su router Wi-Fi o "
    "cierre otros programas que usen la red.",
    "room.lost_connection": "Su conexión se perdió por el momento; normalmente se restablece sola en unos segundos.",
    "room.captions_placeholder": "Las palabras del entrevistador aparecen aquí como subtítulos.",
    "room.start_audio": "Haga clic para escuchar al entrevistador",
    "room.mute": "Silenciar micrófono",
    "room.unmute": "Activar micrófono",
    "room.moment": "Deme un momento",
    "room.leave": "Salir de la entrevista",
    "room.leave_title": "¿Salir de la entrevista?",
    "room.leave_body": "El entrevistador espera un poco a que vuelva a través de su enlace; pasado ese tiempo, la entrevista termina con "
    "lo que haya dicho hasta entonces.",
    "room.leave_cancel": "Seguir en la entrevista",
    "room.leave_confirm": "Salir",
    "room.agent_label": "Entrevistador",
    "room.you_label": "Usted",
    "room.conversation_empty": "La conversación aparece aquí a medida que habla.",
    "room.conversation_label": "Conversación con el entrevistador",
    "room.type_placeholder": "¿Prefiere escribir esta respuesta? Escríbala aquí y presione Enter.",
    "room.send": "Enviar",
    "room.help": "Hable con naturalidad; el entrevistador espera a que termine. Diga “¿podría repetirlo?” o “¿podría decirlo de otra "
    "manera?” siempre que lo necesite; “Deme un momento” (el botón, o decirlo en voz alta) detiene el cronómetro de la pregunta mientras "
    "piensa. Puede salir en cualquier momento con “Salir de la entrevista”.",
    # the text interview
    "text.typing": "El entrevistador está escribiendo…",
    "text.question": "Pregunta {i} de {n}",
    "text.time_left": "Tiempo restante: {time}",
    "text.progress_label": "Preguntas tratadas",
    "text.end": "Terminar la entrevista",
    "text.end_title": "¿Terminar la entrevista ahora?",
    "text.end_body": "Sus respuestas hasta ahora se conservan y se envían al equipo de selección. Después no podrá continuar la "
    "entrevista.",
    "text.end_cancel": "Seguir",
    "text.conversation_label": "Conversación con el entrevistador",
    "text.placeholder": "Escriba su respuesta…",
    "text.answer_label": "Su respuesta",
    "text.send": "Enviar",
    "text.help": "Enter envía y Mayús+Enter inicia una nueva línea. Responda con sus propias palabras, como lo haría hablando. Puede "
    "pedirle al entrevistador que repita o reformule una pregunta, o preguntarle cuánto tiempo queda. Si escribe “deme un momento”, el "
    "cronómetro de la pregunta se detiene mientras piensa.",
    "text.finished": "¡Gracias! Su entrevista ha finalizado y se envió al equipo de selección, que se pondrá en contacto con usted sobre "
    "los próximos pasos. Ya puede cerrar esta página.",
    "text.starting": "Preparando su entrevista…",
    "text.err.gone": "Esta entrevista ya no está en curso aquí. Vuelva a cargar la página.",
    "text.err.accommodation_pending": "Su solicitud de adaptación está en manos del equipo de selección; podrá empezar cuando le "
    "hayan respondido. Vuelva a cargar esta página en ese momento.",
    "text.err.taken_over": "Esta entrevista continúa en otra pestaña o ventana del navegador. Cierre esta y continúe allí.",
    "text.err.open_elsewhere": "Esta entrevista ya está abierta en otra pestaña o ventana del navegador. Continúe allí, o ciérrela y "
    "vuelva a cargar esta página dentro de unos {seconds} segundos.",
    "text.err.busy": "El entrevistador todavía está escribiendo; envíe su mensaje cuando la respuesta esté completa.",
    "text.err.empty": "Primero escriba su respuesta en el cuadro y luego presione “Enviar”.",
    "text.err.too_long": "Su mensaje supera los {limit} caracteres; por favor, acórtelo o divídalo en dos.",
    "text.err.llm": "El entrevistador no pudo responder ahora mismo. Vuelva a enviar su mensaje dentro de un momento; si el problema "
    "persiste, póngase en contacto con el equipo de selección.",
    "text.err.failed": "No se pudo iniciar el entrevistador. Por favor, vuelva a intentarlo más tarde o póngase en contacto con el "
    "equipo de selección.",
    "text.err.voice_running": "Esta entrevista ya está en curso como entrevista por voz. Vuelva a la sala de la entrevista para continuar.",
    "text.err.voice": "Esta entrevista está configurada como entrevista por voz. Vuelva a cargar la página y elija cómo desea participar.",
    "text.err.incomplete": "La configuración de esta entrevista no está completa. Por favor, póngase en contacto con el equipo de "
    "selección.",
    "text.err.interrupted": "Su entrevista se interrumpió por un problema de nuestra parte y no se pudo continuar. Lo que escribió hasta "
    "ahora está guardado; el equipo de selección se pondrá en contacto con usted sobre los próximos pasos.",
    "text.err.one_moment": "Un momento: su entrevista se está trasladando a otro servidor. Esta página vuelve a intentarlo sola.",
    "text.err.elsewhere": "Esta entrevista está abierta en otra conexión con el servidor. Cierre las demás pestañas con este enlace, "
    "espere un minuto y vuelva a cargar esta página.",
}
