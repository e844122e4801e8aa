// Uploads: drag and drop, the picker, progress and resumable transfers.
//
//   import { uploads } from "../library/upload.js";
//   uploads.addEventListener("uploaded", (event) => grid.insert(event.detail.asset));
//   uploads.addEventListener("processed", (event) => …);   // {id, status}
//   uploads.add(fileList);                                   // queue files from elsewhere
//
// The layout loads this file with a version in its URL and pages import it without one: the
// browser evaluates it twice. Everything with state lives in upload_app.js, which both copies
// import by the same plain URL, so the page still has one queue, one panel, one set of
// listeners.

export { uploads } from "./upload_app.js";
