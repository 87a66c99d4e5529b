"""Money, in its own room (a nested Django app, label `billing`): fees, invoices, credit notes,
payments at the desk and the desk's day close. Booking's services call `invoicing` when a visit
ends; nothing in booking's models knows about money."""
