// What every signed-in page has from the Library: the Upload button, dropping files anywhere,
// the "u" key, and the random button.
//
// Page modules import these by their plain URLs; importing them here by the same URLs (this
// file is the only one the layout loads by a fingerprinted URL) keeps one instance of each per
// page, so there is one upload queue and one set of listeners.
import "./upload.js";
import "./random.js";
