"""Signed webhooks to other systems (issue 20): managers register endpoints, booking's changes
and intake's submissions queue deliveries in their own transaction, and the email worker posts
them, signed per Standard Webhooks, with retries.

One module a part: `models` (endpoints, deliveries), `events` (what is queued, and its
payload), `signing` (secrets, headers), `transport` (posting, guarded against SSRF),
`delivery` (the worker's part), `forms`, `views` and `urls` (the managers' pages).
"""
