SELECT * FROM events WHERE properties = 'distinct_id' AND name = 'x';
