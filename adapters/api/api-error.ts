// Every failure the API answers, as one error type: the status, a stable snake_case code a script can
// test, and a message a person can read. The server turns it into {"error":{"code","message"}} (plus
// "field" when one request field is to blame).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): { error: { code: string; message: string; field?: string } } {
    return {
      error:
        this.field === undefined
          ? { code: this.code, message: this.message }
          : { code: this.code, message: this.message, field: this.field },
    };
  }
}

/** A request field is missing or has the wrong type or value (400, naming the field). */
export function badField(field: string, message: string): ApiError {
  return new ApiError(400, 'bad_request', `${field}: ${message}`, field);
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} not found`);
}
