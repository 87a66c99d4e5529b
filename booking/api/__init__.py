"""The open FHIR R4 API at /fhir/ (issue 20): its clients and scopes (`models`, `scopes`,
`oauth`, `clients`), what every request goes through (`http`: the token, the scope, the rate
limit, the access log, bundles and OperationOutcomes), and one module a resource family under
`resources/`. Bookings go through the same services as the pages (`booking.services`)."""
