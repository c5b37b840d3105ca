"""XSD + business-rule validation of health-record documents, producing plain report objects."""
