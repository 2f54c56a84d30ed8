/** HTTP-level errors of the model server: a status, a message, and optional extra headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Why, for the failure metrics: 'invalid', 'not_found', 'unavailable', 'overloaded', 'timeout', ... */
    readonly reason: string = reasonOf(status),
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function reasonOf(status: number): string {
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 413:
      return 'too_large';
    case 429:
      return 'overloaded';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'invalid';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const unavailable = (message: string) => new HttpError(503, message);
