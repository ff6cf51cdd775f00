-- Code requests by client address, for the wallet's per-address rate
-- limit. Rows older than the limit's window are deleted as new requests
-- arrive.
CREATE TABLE sign_in_requests (
    client_address TEXT NOT NULL,
    -- RFC 3339 UTC time of the request.
    requested_at   TEXT NOT NULL
);

CREATE INDEX sign_in_requests_by_address ON sign_in_requests (client_address, requested_at);
