/** An Authorization value answering an MD5 digest challenge (RFC 2617, qop=auth). */
export function digestAnswer(
  challenge: string,
  request: { method: string; uri: string },
  credential: { username: string; password: string },
): string;
