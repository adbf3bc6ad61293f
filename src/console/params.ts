// The path parameters of the console's pages, validated as the API's are.
import { z } from 'zod';
import { idParam } from '../http/admin-request.js';

export const appPath = z.object({ app_id: idParam('app', 'an app') });
export const keyPath = z.object({ key_id: idParam('key', 'a key') });
export const webhookPath = z.object({ webhook_id: idParam('webhook', 'a webhook') });
