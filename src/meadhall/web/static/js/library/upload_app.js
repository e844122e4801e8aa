// The one upload queue of the page, its panel and its inputs. Started once however many
// times (and under however many URLs) upload.js is imported.

import { bindUploadInputs } from "./upload_input.js";
import { UploadPanel } from "./upload_panel.js";
import { UploadQueue } from "./upload_queue.js";

export const uploads = new UploadQueue();

if (document.body.dataset.userId) {
  new UploadPanel(uploads);
  bindUploadInputs(uploads);
  // Leaving now would lose the files still on their way (resumable ones could continue
  // after a reload, but only when picked again).
  window.addEventListener("beforeunload", (event) => {
    if (!uploads.busy) return;
    event.preventDefault();
    event.returnValue = "";
  });
}
