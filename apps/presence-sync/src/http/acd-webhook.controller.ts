import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AcdWebhookReceiver } from './acd-webhook.receiver';

/**
 * The webhook through the application's router. The webhook port serves it before the router
 * (`serveWebhookFirst`); this route answers it where a request reaches the application itself (the ops listener,
 * which refuses it, or a test that drives the application directly). Both answer through `AcdWebhookReceiver`.
 */
@Controller('v1/acd')
export class AcdWebhookController {
  constructor(private readonly receiver: AcdWebhookReceiver) {}

  @Post('events')
  @HttpCode(202)
  receive(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.handle(req, res);
  }

  @Post(':connector/events')
  @HttpCode(202)
  receiveForConnector(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.handle(req, res);
  }

  private async handle(req: Request, res: Response): Promise<unknown> {
    const answer = await this.receiver.receive(req);
    if (!answer) return undefined;
    res.status(answer.status);
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    return answer.body;
  }
}
