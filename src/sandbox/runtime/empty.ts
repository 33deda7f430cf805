// Stands in for `server-only`: route handlers are server code, so the import is always allowed.
export {};
