// Package uploadgc closes the upload sessions that clients abandoned and
// removes their bytes, so that pushes given up half-way do not hold storage
// for long. A session is abandoned when no chunk has reached it for the
// sweeper's maximum age (`berth serve --upload-max-age`); its id then
// answers BLOB_UPLOAD_UNKNOWN, as a cancelled one does. Bytes that cannot
// be removed are logged; the filesystem store's are found again by the next
// sweep, which also removes bytes that never got a session record.
package uploadgc
