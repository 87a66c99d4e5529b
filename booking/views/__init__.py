"""The pages patients use (and a practitioner booking a course), one module a task. The front
desk's pages are in `booking.desk`; the pages a link in an email opens, in
`booking.notifications`."""
