// The admin pages' notices (interview_app/components/notice.py): a sonner toast for each new
// NoticeState.notice_seq. State, not a returned rx.toast: Reflex runs a returned script with eval(),
// which the pages' CSP does not allow. The sentences stay in Python; this file only calls toast().
import { useEffect } from "react";
import { toast } from "sonner";

// The last seq shown in this document. Module-wide, so a notice that comes with a redirect (the
// next page's frame mounts with it) still shows; null until the first hydrated state after a load,
// whose notice was already seen before the reload.
let shown = null;

export function NoticeToaster({ seq, kind, message, hydrated }) {
  useEffect(() => {
    if (shown === null) {
      if (hydrated) shown = seq;
      return;
    }
    if (seq === shown) return;
    shown = seq;
    (toast[kind] ?? toast)(message);
  }, [seq, hydrated]);
  return null;
}
