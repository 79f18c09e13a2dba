"""Drawing one bird's game with pygame primitives (no sprite files), for windows and videos."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from sb3_behave.envs.flappy_bird.core import (
    BASE_Y,
    FPS,
    PIPE_GAP,
    PIPE_WIDTH,
    PLAYER_HEIGHT,
    PLAYER_ROT_THR,
    PLAYER_WIDTH,
    PLAYER_X,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    FlappyBirdCore,
)
from sb3_behave.stack import require_pygame

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

SKY_TOP = (78, 192, 202)
SKY_BOTTOM = (160, 222, 220)
CLOUD = (234, 248, 244)
CITY = (140, 200, 170)
PIPE_BODY = (96, 178, 52)
PIPE_LIGHT = (160, 220, 90)
PIPE_EDGE = (44, 84, 32)
GROUND = (222, 216, 149)
GRASS = (116, 190, 46)
STRIPE = (200, 190, 120)
BIRD_BODY = (250, 200, 40)
BIRD_WING = (250, 240, 190)
BEAK = (240, 110, 40)
TEXT = (255, 255, 255)
TEXT_SHADOW = (40, 40, 40)
CAP_HEIGHT = 20
CAP_OVERHANG = 3


class FlappyBirdRenderer:
    """Draws bird ``index`` of a :class:`FlappyBirdCore` onto a 288x512 pygame surface.

    :param render_mode: ``"human"`` opens a window and keeps the game's frame rate,
        ``"rgb_array"`` only draws off screen
    :param title: window title
    :param speed: multiplies the window's frame rate (below 1 slows the game down for beginners)
    """

    def __init__(self, render_mode: str, title: str = "sb3-behave Flappy Bird", speed: float = 1.0) -> None:
        require_pygame("drawing Flappy Bird")
        import pygame

        self._pygame = pygame
        self.render_mode = render_mode
        self.title = title
        self.speed = speed
        pygame.font.init()
        self.surface = pygame.Surface((SCREEN_WIDTH, SCREEN_HEIGHT))
        self._background = self._draw_background()
        self._score_font = pygame.font.Font(None, 56)
        self._window: Any = None
        self._clock: Any = None

    def _draw_background(self) -> Any:
        pygame = self._pygame
        background = pygame.Surface((SCREEN_WIDTH, SCREEN_HEIGHT))
        for y in range(SCREEN_HEIGHT):
            t = y / SCREEN_HEIGHT
            color = [int(a + (b - a) * t) for a, b in zip(SKY_TOP, SKY_BOTTOM)]
            pygame.draw.line(background, color, (0, y), (SCREEN_WIDTH, y))
        for x, y, r in ((40, 90, 18), (62, 84, 24), (86, 92, 16), (190, 140, 20), (214, 132, 26), (240, 142, 18)):
            pygame.draw.circle(background, CLOUD, (x, y), r)
        for i, h in enumerate((46, 70, 38, 90, 56, 74, 42, 64, 86, 50)):
            pygame.draw.rect(background, CITY, (i * 29, int(BASE_Y) - h, 26, h))
        return background

    def draw(self, core: FlappyBirdCore, index: int = 0) -> Any:
        """Draw the frame of bird ``index`` and return the surface.

        :param core: the simulation
        :param index: which bird
        """
        surface = self.surface
        surface.blit(self._background, (0, 0))
        for x, gap_top in zip(core.pipe_x[index], core.gap_y[index]):
            if np.isfinite(x) and x < SCREEN_WIDTH:
                self._draw_pipe(int(x), int(gap_top))
        self._draw_ground(int(core.frame[index]))
        rot = float(min(core.rot[index], PLAYER_ROT_THR))
        self._draw_bird(int(core.player_y[index]), rot, int(core.frame[index]))
        self._draw_text(str(int(core.score[index])), self._score_font, (SCREEN_WIDTH // 2, 60), center=True)
        return surface

    def _draw_pipe(self, x: int, gap_top: int) -> None:
        pygame = self._pygame
        bottom_top = gap_top + PIPE_GAP
        for rect in ((x, 0, PIPE_WIDTH, gap_top), (x, bottom_top, PIPE_WIDTH, int(BASE_Y) - bottom_top)):
            pygame.draw.rect(self.surface, PIPE_BODY, rect)
            pygame.draw.rect(self.surface, PIPE_LIGHT, (rect[0] + 6, rect[1], 8, rect[3]))
            pygame.draw.rect(self.surface, PIPE_EDGE, rect, 2)
        for cap_y in (gap_top - CAP_HEIGHT, bottom_top):
            cap = (x - CAP_OVERHANG, cap_y, PIPE_WIDTH + 2 * CAP_OVERHANG, CAP_HEIGHT)
            pygame.draw.rect(self.surface, PIPE_BODY, cap)
            pygame.draw.rect(self.surface, PIPE_LIGHT, (cap[0] + 6, cap_y + 2, 8, CAP_HEIGHT - 4))
            pygame.draw.rect(self.surface, PIPE_EDGE, cap, 2)

    def _draw_ground(self, frame: int) -> None:
        pygame = self._pygame
        top = int(BASE_Y)
        pygame.draw.rect(self.surface, GROUND, (0, top, SCREEN_WIDTH, SCREEN_HEIGHT - top))
        pygame.draw.rect(self.surface, GRASS, (0, top, SCREEN_WIDTH, 12))
        shift = (frame * 4) % 24
        for x in range(-shift, SCREEN_WIDTH + 24, 24):
            pygame.draw.polygon(
                self.surface, STRIPE, [(x, top + 12), (x + 12, top + 12), (x + 4, top + 22), (x - 8, top + 22)]
            )
        pygame.draw.line(self.surface, PIPE_EDGE, (0, top), (SCREEN_WIDTH, top), 2)

    def _draw_bird(self, y: int, rot: float, frame: int) -> None:
        pygame = self._pygame
        sprite = pygame.Surface((PLAYER_WIDTH, PLAYER_HEIGHT), pygame.SRCALPHA)
        pygame.draw.ellipse(sprite, BIRD_BODY, (0, 0, PLAYER_WIDTH - 6, PLAYER_HEIGHT))
        pygame.draw.ellipse(sprite, PIPE_EDGE, (0, 0, PLAYER_WIDTH - 6, PLAYER_HEIGHT), 1)
        wing_y = (4, 8, 12, 8)[(frame // 3) % 4]  # flapping wing, like the original's 3 sprites
        pygame.draw.ellipse(sprite, BIRD_WING, (2, wing_y, 14, 9))
        pygame.draw.circle(sprite, (255, 255, 255), (20, 8), 6)
        pygame.draw.circle(sprite, (0, 0, 0), (22, 8), 2)
        pygame.draw.polygon(sprite, BEAK, [(22, 13), (PLAYER_WIDTH - 1, 15), (22, 19)])
        rotated = pygame.transform.rotate(sprite, rot)
        self.surface.blit(rotated, rotated.get_rect(center=(PLAYER_X + PLAYER_WIDTH // 2, y + PLAYER_HEIGHT // 2)))

    def _draw_text(self, text: str, font: Any, pos: tuple[int, int], center: bool = False) -> None:
        for offset, color in (((2, 2), TEXT_SHADOW), ((0, 0), TEXT)):
            image = font.render(text, True, color)
            rect = image.get_rect()
            if center:
                rect.center = (pos[0] + offset[0], pos[1] + offset[1])
            else:
                rect.topleft = (pos[0] + offset[0], pos[1] + offset[1])
            self.surface.blit(image, rect)

    def render(self, core: FlappyBirdCore, index: int = 0) -> np.ndarray | None:
        """Draw, then show the window (``"human"``) or return an RGB array (``"rgb_array"``)."""
        pygame = self._pygame
        surface = self.draw(core, index)
        if self.render_mode == "rgb_array":
            return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2))
        if self._window is None:
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self._window = pygame.display.set_mode((SCREEN_WIDTH, SCREEN_HEIGHT))
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(FPS * self.speed)
        return None

    def close(self) -> None:
        """Close the window, if one was opened."""
        if self._window is not None:
            self._pygame.display.quit()
            self._window = None
