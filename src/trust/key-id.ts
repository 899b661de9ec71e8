/** A trust entry id: the `<id>` of keys/<id>.pub, an admin API key id, `trustgate keygen --id`. */
export const KEY_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
